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
