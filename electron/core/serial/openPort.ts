// Opening a serial port with errors a maker can act on: busy (and who holds it), no permission
// (which group), gone. Every flasher and the monitor open ports through here.
import { readdir, readFile, stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { MakerdeckError } from '../../contract';
import { accessFix, checkPortAccess } from './access';

/** How long an open waits for this process's own earlier handle on the port to finish closing. */
const OWN_CLOSE_WAIT_MS = 3000;
const BUSY = /Cannot lock port|Resource temporarily unavailable|EBUSY|Access denied.*in use/i;

export async function openSerialPort(portPath: string, baudRate: number): Promise<SerialPort> {
  const deadline = Date.now() + OWN_CLOSE_WAIT_MS;
  for (;;) {
    const port = new SerialPort({ path: portPath, baudRate, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
      return port;
    } catch (error) {
      // A flasher's earlier handle (esptool-js closes its port in the background) may still be
      // closing in this very process: that is not another program holding the port, so wait for it.
      const ownClosing = BUSY.test((error as Error).message) && (await holds(process.pid, portPath));
      if (ownClosing && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      else throw await explainOpenError(portPath, error as Error);
    }
  }
}

export async function explainOpenError(portPath: string, error: Error): Promise<MakerdeckError> {
  const message = error.message;
  if (BUSY.test(message)) {
    const holder = await whoHolds(portPath);
    return new MakerdeckError(
      'UNAVAILABLE',
      `${portPath} is busy${holder ? `: ${holder} has it open` : ''} — close the serial monitor or the other program, then try again`,
    );
  }
  if (/ENOENT|No such file|File not found/i.test(message)) {
    return new MakerdeckError(
      'NOT_FOUND',
      `${portPath} does not exist: plug the board in (with a data USB cable) and pick its port again`,
    );
  }
  if (/EACCES|Permission denied/i.test(message)) {
    const fix = accessFix(portPath, await checkPortAccess(portPath)) ?? 'check the port permissions';
    return new MakerdeckError('UNAVAILABLE', `No permission to open ${portPath}: ${fix}`);
  }
  return new MakerdeckError('UNAVAILABLE', `Cannot open ${portPath}: ${message.split('\n')[0]}`);
}

/** Linux: another process holding the device open, as "process 1234 (screen)". */
export async function whoHolds(portPath: string): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  const pids = (await readdir('/proc').catch(() => [])).filter(
    (name) => /^\d+$/.test(name) && Number(name) !== process.pid,
  );
  for (const pid of pids) {
    if (!(await holds(Number(pid), portPath))) continue;
    const name = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
    return `process ${pid} (${name})`;
  }
  return undefined;
}

/**
 * Linux: whether process `pid` has the device open. Open files are compared by device numbers, not
 * by the text of their /proc/<pid>/fd links: a link shows the path in its own process's mount
 * namespace, where the same text can name another device. A pty's number is only unique within its
 * devpts instance, so for ptys the file system's device must match as well.
 */
async function holds(pid: number, portPath: string): Promise<boolean> {
  if (process.platform !== 'linux') return false;
  const target = await stat(portPath).catch(() => undefined); // follows /dev/serial/by-id/… links
  if (!target?.isCharacterDevice()) return false;
  const pty = isPtySlave(target.rdev);
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    // stat follows the fd's magic link to the open file itself, whatever namespace it was opened in.
    const open = await stat(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
    if (open?.isCharacterDevice() && open.rdev === target.rdev && (!pty || open.dev === target.dev)) return true;
  }
  return false;
}

/** Unix98 pty slaves have majors 136–143 (Documentation/admin-guide/devices.txt). */
function isPtySlave(rdev: number): boolean {
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  return major >= 136 && major <= 143;
}

/**
 * Sets DTR and RTS together: serialport fills missing flags with true, so setting one alone would
 * raise the other and hold an auto-reset board in reset. Resolves false where the port has no modem
 * lines (a pty answers ENOTTY) — not an error, the board just is not reset that way.
 */
export function setModemLines(port: SerialPort, lines: { dtr: boolean; rts: boolean }): Promise<boolean> {
  return new Promise((resolve) =>
    port.set({ ...lines, brk: false, cts: false, dsr: false }, (error) => resolve(!error)),
  );
}

export function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}
