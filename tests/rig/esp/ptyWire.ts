// The stand-in behind a real pseudo-terminal, so the code under test opens it with serialport's
// real (native) binding: pty_relay.py owns the master side and forwards both ways. A pty has no
// DTR/RTS (serialport's set() fails there with ENOTTY), so the stand-in is made with resetOnOpen:
// opening the port stands for the operator holding BOOT and pressing RESET.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { EspRomStandIn } from './espRomStandIn';

const RELAY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pty_relay.py');

export interface PtyStandIn {
  /** The slave path, e.g. /dev/pts/7. */
  path: string;
  /** Ends the relay: the pty disappears, as a USB adapter does when pulled. */
  close(): Promise<void>;
}

/** Starts a relay for `standIn`; call again after an unplug to plug it back in (a new path). */
export async function ptyStandIn(standIn: EspRomStandIn): Promise<PtyStandIn> {
  const relay = spawn('python3', [RELAY], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => relay.once('exit', () => resolve()));
  relay.stdin.on('error', () => undefined); // writes after the relay died
  standIn.attach({
    send: (bytes) => {
      if (relay.exitCode === null && !relay.killed) relay.stdin.write(bytes);
    },
    unplug: () => relay.kill('SIGKILL'),
  });
  standIn.powerOn();
  const portPath = await readFrames(relay, standIn);
  return {
    path: portPath,
    close: async () => {
      if (relay.exitCode === null) relay.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resolves with the slave path, then keeps feeding the stand-in. */
function readFrames(relay: ChildProcessByStdio<Writable, Readable, null>, standIn: EspRomStandIn): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    let hostBaud = 115200;
    relay.once('exit', (code) => reject(new Error(`pty relay exited (${code}) before giving a path`)));
    relay.stdout.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5) {
        const length = buffered.readUInt32LE(1);
        if (buffered.length < 5 + length) break;
        const kind = String.fromCharCode(buffered[0]!);
        const payload = buffered.subarray(5, 5 + length);
        buffered = buffered.subarray(5 + length);
        if (kind === 'P') resolve(payload.toString());
        else if (kind === 'O') standIn.portOpened();
        else if (kind === 'C') standIn.portClosed();
        else if (kind === 'B') standIn.setHostBaud((hostBaud = payload.readUInt32LE(0)));
        else if (kind === 'D') standIn.receive(new Uint8Array(payload), hostBaud);
      }
    });
  });
}
