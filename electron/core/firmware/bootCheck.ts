// The boot check after a release: reopen the board's port (which resets an AVR board; an ESP board
// is reset through RTS), read its serial output for a while and compare the line the firmware prints
// at boot with the id and build just released. A mixed-up board is the worst outcome for a teacher,
// so another id or build is an error; silence is only reported (the write itself was verified).
import { MakerdeckError, type BootCheck } from '../../contract';
import { closePort, openSerialPort, setModemLines } from '../serial/openPort';

/** How long the board has to report, by default: an Uno boots in ~1.5 s, an ESP32 joining Wi-Fi takes longer. */
export const BOOT_CHECK_MS = 10_000;
/** The firmware's boot line (firmware/firmware.ino), bounded like a device id and a build hash. */
const READY = /^makerdeck firmware ready, device ([A-Za-z0-9_-]{1,64}), build ([0-9A-Za-z]{1,64})$/;
/** What an unprovisioned build prints instead: its config block was missing or did not pass its CRC. */
const BLANK = /^makerdeck firmware build ([0-9A-Za-z]{1,64})$/;
/** A board that never sends a newline must not grow the buffer without end. */
const MAX_PARTIAL = 4096;

export interface BootCheckOptions {
  port: string;
  baudRate?: number;
  /** Without a build hash (an uploaded build), any build the board names is accepted and reported. */
  expected: { deviceId: string; buildHash?: string };
  /** ESP boards are reset through RTS (EN); opening the port of an AVR board resets it. */
  resetWithRts: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Waits for the board's boot line. Resolves with what it reported, or with a "did not report"
 * result after the window; throws when it reports another id or build. The port is closed on
 * every path, so the serial monitor can open it right after.
 */
export async function checkBoot(options: BootCheckOptions): Promise<BootCheck> {
  const timeoutMs = options.timeoutMs ?? BOOT_CHECK_MS;
  const started = Date.now();
  if (options.signal?.aborted) throw cancelled();
  let line: string | undefined;
  try {
    line = await readBootLine(options, timeoutMs);
  } catch (error) {
    // The write was verified: a port gone or busy after it (a board that re-enumerates) is reported, not fatal.
    if (error instanceof MakerdeckError && error.code === 'CANCELLED') throw error;
    return unread(options.port, Date.now() - started, (error as Error).message);
  }
  if (line === undefined) return silent(options.port, Date.now() - started);
  return compare(options, line, Date.now() - started);
}

async function readBootLine(options: BootCheckOptions, timeoutMs: number): Promise<string | undefined> {
  const port = await openSerialPort(options.port, options.baudRate ?? 115200);
  try {
    const waiting = firstBootLine(port, options.signal, timeoutMs);
    if (options.resetWithRts) await resetThroughRts(port);
    return await waiting;
  } finally {
    await closePort(port);
  }
}

type Port = Awaited<ReturnType<typeof openSerialPort>>;

/** The first boot line (ready or blank), or undefined when the window ends first. */
function firstBootLine(port: Port, signal: AbortSignal | undefined, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let partial = '';
    const finish = (line: string | undefined, error?: Error) => {
      clearTimeout(timer);
      port.off('data', onData).off('error', onError).off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: Buffer) => {
      const parts = (partial + chunk.toString('latin1')).split('\n');
      partial = parts.pop()!.slice(-MAX_PARTIAL);
      const line = parts.map((p) => p.replace(/\r$/, '').trim()).find((p) => READY.test(p) || BLANK.test(p));
      if (line !== undefined) finish(line);
    };
    const onError = (error: Error) => finish(undefined, lost(port.path, error.message));
    const onClose = () => finish(undefined, lost(port.path, 'the port closed'));
    const onAbort = () => finish(undefined, cancelled());
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    port.on('data', onData).on('error', onError).on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** EN low for 100 ms with IO0 left high, as esptool's hard reset does; a port without modem lines skips it. */
async function resetThroughRts(port: Port): Promise<void> {
  if (!(await setModemLines(port, { dtr: false, rts: true }))) return;
  await new Promise((resolve) => setTimeout(resolve, 100));
  await setModemLines(port, { dtr: false, rts: false });
}

function compare(options: BootCheckOptions, line: string, ms: number): BootCheck {
  const { deviceId } = options.expected;
  const ready = READY.exec(line);
  const buildHash = options.expected.buildHash ?? ready?.[2];
  const released = buildHash ? `device ${deviceId}, build ${buildHash}` : `device ${deviceId}`;
  if (!ready)
    throw new MakerdeckError(
      'BAD_INPUT',
      `The board on ${options.port} booted build ${BLANK.exec(line)![1]} without a config, not ${released}: ` +
        'its config block was not accepted; flash this release again',
    );
  if (ready[1] !== deviceId || ready[2] !== buildHash)
    throw new MakerdeckError(
      'BAD_INPUT',
      `The board on ${options.port} reports device ${ready[1]}, build ${ready[2]}, but this release is ${released}: ` +
        'is this the board you meant to flash? Check which board is on this port, then flash it again',
    );
  return { reported: true, deviceId, buildHash: ready[2]!, ms };
}

function silent(port: string, waitedMs: number): BootCheck {
  return {
    reported: false,
    waitedMs,
    message:
      `the board did not report within ${Math.round(waitedMs / 1000)} s. The firmware was written and verified; ` +
      `open the serial monitor on ${port} (115200 baud) and press the board's reset button: ` +
      'it should print "makerdeck firmware ready, device …". No line at all: check the cable and the port.',
  };
}

function unread(port: string, waitedMs: number, why: string): BootCheck {
  return {
    reported: false,
    waitedMs,
    message:
      `the board could not be read after the flash (${why.replace(/[.:]\s*$/, '')}). The firmware was written and ` +
      `verified; open the serial monitor on ${port} (115200 baud) to see it start.`,
  };
}

function cancelled(): MakerdeckError {
  return new MakerdeckError('CANCELLED', 'The boot check was cancelled: the firmware was written and verified');
}

function lost(port: string, why: string): MakerdeckError {
  return new MakerdeckError('UNAVAILABLE', `${port} went away during the boot check (${why})`);
}
