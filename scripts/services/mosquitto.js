// A private Mosquitto broker (Debian's) on 127.0.0.1 for tests and benchmarks: config and
// persistence under `dir`, anonymous access (loopback only), stopped by the PID we started.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { requireCommand } from './apt.js';
import { isRunning, sleep, stopChild, tail } from './proc.js';

export const MOSQUITTO_PACKAGES = ['mosquitto'];

/** A port nobody listens on right now. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts mosquitto listening on 127.0.0.1:`port` (a free one when 0). Start it again with the same
 * `dir` and `port` to simulate a broker restart. Returns { pid, port, url, stop }.
 */
export async function startMosquitto({ dir, port = 0, timeoutMs = 10_000, nodelay = true }) {
  const mosquitto = requireCommand('mosquitto', 'mosquitto');
  mkdirSync(dir, { recursive: true });
  const listen = port || (await freePort());
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${listen} 127.0.0.1`,
      'allow_anonymous true',
      // Nagle alone adds ~14 ms to every message at 10k/s
      `set_tcp_nodelay ${nodelay}`,
      'max_queued_messages 100000',
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'mosquitto.log');
  const log = openSync(logFile, 'a');
  const child = spawn(mosquitto, ['-c', config], { stdio: ['ignore', log, log] });
  closeSync(log);
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(listen))) {
    if (!isRunning(child) || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`startMosquitto: no listener on 127.0.0.1:${listen}\n${tail(logFile, 15)}`);
    }
    await sleep(50);
  }
  return { pid: child.pid, port: listen, url: `mqtt://127.0.0.1:${listen}`, stop: () => stopChild(child) };
}
