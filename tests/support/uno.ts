// The emulated Uno (simavr running the real optiboot) and helpers to compile test sketches for it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startEmulatedUno } from '../../scripts/rig/uno.js';
import { requiredEnv } from './env';

export type EmulatedUno = Awaited<ReturnType<typeof startEmulatedUno>>;

/** Starts the emulated Uno; with `flashImage` (a .hex) its flash holds that sketch from the start. */
export async function startUno(dir: string, flashImage?: string): Promise<EmulatedUno> {
  return startEmulatedUno({ dir, flashImage });
}

/** Compiles a sketch with the rig's arduino-cli (not Makerdeck's path) and returns the .hex text. */
export async function compileWithRig(sketchDir: string, outputDir: string): Promise<{ hexFile: string; hex: string }> {
  const cli = requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  const config = requiredEnv('MAKERDECK_ARDUINO_CLI_CONFIG', 'the arduino-cli test rig');
  await new Promise<void>((resolve, reject) =>
    execFile(
      cli,
      ['--config-file', config, 'compile', '--fqbn', 'arduino:avr:uno', '--output-dir', outputDir, sketchDir],
      (error, _out, stderr) => (error ? reject(new Error(`arduino-cli failed: ${stderr}`)) : resolve()),
    ),
  );
  const hexFile = path.join(outputDir, `${path.basename(sketchDir)}.ino.hex`);
  return { hexFile, hex: readFileSync(hexFile, 'utf8') };
}

/** A pseudo-terminal with nothing behind it: opening it works, nobody ever answers. */
export async function silentPty(): Promise<{ path: string; stop(): void }> {
  const child: ChildProcess = spawn(
    'python3',
    ['-c', 'import os,pty,time\nm,s=pty.openpty()\nprint(os.ttyname(s),flush=True)\ntime.sleep(120)'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ptyPath = await new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d).trim())));
  return { path: ptyPath, stop: () => child.kill('SIGKILL') };
}

// A stand-in for a slow serial link: a pty whose bytes go to the board at once and whose answers come
// back `delayMs` late. It opens the board's port on the first byte (which resets an emulated Uno,
// as opening a real one's port does).
const SLOW_LINK = `
import os, pty, select, sys, time, tty
board_path, delay = sys.argv[1], float(sys.argv[2]) / 1000
master, slave = pty.openpty()
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
board, due = None, []
while True:
    now = time.monotonic()
    while due and due[0][0] <= now:
        os.write(master, due.pop(0)[1])
    fds = [master] + ([board] if board is not None else [])
    ready, _, _ = select.select(fds, [], [], max(0.0, due[0][0] - now) if due else None)
    if master in ready:
        data = os.read(master, 4096)
        if board is None:
            board = os.open(board_path, os.O_RDWR | os.O_NOCTTY)
            tty.setraw(board)
        os.write(board, data)
    if board is not None and board in ready:
        due.append((time.monotonic() + delay, os.read(board, 4096)))
`;

/** A port that reaches `boardPath` through a link answering `delayMs` late (Bluetooth serial, a busy hub). */
export function slowLink(boardPath: string, delayMs: number): Promise<PtyLink> {
  return startPtyLink('slow link', SLOW_LINK, [boardPath, String(delayMs)]);
}

// A stand-in for a port whose board changes between the flash and the boot check (two boards on a
// hub that re-enumerated, a cable moved): the flasher's traffic goes to the `first` board; once it
// sends STK_LEAVE_PROGMODE and gets its reply, the link opens the `then` board (which resets it, as
// opening a real Uno's port does) and passes only its output on, or, without one, stays silent.
const SWITCHING_LINK = `
import os, pty, select, sys, tty
first, then = sys.argv[1], sys.argv[2]
master, slave = pty.openpty()
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
def open_board(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd
board, switched, reply_left = None, False, -1
while True:
    fds = [master] + ([board] if board is not None else [])
    ready, _, _ = select.select(fds, [], [])
    if master in ready:
        data = os.read(master, 4096)
        if not switched:
            if board is None:
                board = open_board(first)
            os.write(board, data)
            if data == b'\\x51\\x20':
                reply_left = 2
    if board is not None and board in ready:
        data = os.read(board, 4096)
        if switched:
            os.write(master, data)
        elif reply_left != 0:
            if reply_left > 0:
                data = data[:reply_left]
                reply_left -= len(data)
            os.write(master, data)
        if not switched and reply_left == 0:
            os.close(board)
            board = open_board(then) if then != '-' else None
            switched = True
`;

/** A port that reaches `first` for the flash, then `then`'s output (or silence, without one). */
export function switchingLink(first: string, then?: string): Promise<PtyLink> {
  return startPtyLink('switching link', SWITCHING_LINK, [first, then ?? '-']);
}

export interface PtyLink {
  path: string;
  stop(): Promise<void>;
}

/** Runs a python link script that prints its pty's path once ready; stopped by the PID started. */
async function startPtyLink(name: string, script: string, args: string[]): Promise<PtyLink> {
  const child = spawn('python3', ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const linkPath = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the ${name} exited (${code}) before it was ready`)));
    child.stdout!.once('data', (d) => resolve(String(d).trim()));
  });
  return {
    path: linkPath,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
