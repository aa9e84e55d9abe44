// "Port busy" names the process that really holds the port. The stranger: a process in its own mount
// namespace (unshare -m) where another pty is bind-mounted at the port's path, so its
// /proc/<pid>/fd link reads exactly like the port's path although it holds a different device.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readlink } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openSerialPort, whoHolds } from '../../electron/core/serial/openPort';

const children: ChildProcess[] = [];

/** Starts a process and waits for its first whole line of output. */
async function started(command: string, args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}): ${stderr}`)));
    let out = '';
    child.stdout!.on('data', (d) => (out += d).includes('\n') && resolve(out.split('\n')[0]!));
  });
  return { child, line };
}

/** Two ptys nobody has open yet (their masters stay with the helper). */
async function twoPtys(): Promise<[string, string]> {
  const script =
    'import os,pty,time\nm1,s1=pty.openpty()\nm2,s2=pty.openpty()\n' +
    'print(os.ttyname(s1),os.ttyname(s2),flush=True)\nos.close(s1)\nos.close(s2)\ntime.sleep(120)';
  const { line } = await started('python3', ['-c', script]);
  return line.split(' ') as [string, string];
}

/** python3 holding `path` open with the lock serialport also takes. */
const HOLD =
  'import fcntl,os,sys,time\nfd=os.open(sys.argv[1],os.O_RDWR|os.O_NOCTTY)\nfcntl.flock(fd,fcntl.LOCK_EX)\n' +
  "print('held',flush=True)\ntime.sleep(120)";

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGKILL'); // by the PID we started
    await new Promise((resolve) => child.once('exit', resolve));
  }
});

describe('whoHolds (Linux, real processes and ptys)', () => {
  it('names the real holder, not a stranger whose fd link reads like the port', async () => {
    const [port, other] = await twoPtys();
    // Started first, so a scan of /proc in pid order meets it before the real holder.
    const stranger = await started('unshare', [
      '-m',
      'sh',
      '-c',
      `mount --bind "$1" "$2" && exec python3 -c "$3" "$2"`,
      'sh',
      other,
      port,
      HOLD,
    ]);
    const strangerLinks = await Promise.all(
      (await readdir(`/proc/${stranger.child.pid}/fd`)).map((fd) =>
        readlink(`/proc/${stranger.child.pid}/fd/${fd}`).catch(() => ''),
      ),
    );
    expect(strangerLinks).toContain(port); // the same text as the port's path…
    expect(await whoHolds(port)).toBeUndefined(); // …but not the port

    const holder = await started('python3', ['-c', HOLD, port]);
    expect(holder.child.pid).toBeGreaterThan(stranger.child.pid!);
    await expect(openSerialPort(port, 115200)).rejects.toThrow(
      `${port} is busy: process ${holder.child.pid} (python3) has it open`,
    );
  });
});
