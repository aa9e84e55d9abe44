// A private Mosquitto broker (Debian's) on 127.0.0.1 for tests and benchmarks: config and
// persistence under `dir`, anonymous access (loopback only), stopped by the PID we started.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireCommand } from './apt.js';
import { canConnect, freePort, listensOn, mqttConnack } from './ports.js';
import { isRunning, sleep, stopChild, tail } from './proc.js';

export const MOSQUITTO_PACKAGES = ['mosquitto'];

/** @typedef {{ dir: string, port?: number, timeoutMs?: number, nodelay?: boolean }} MosquittoOptions */
/** @typedef {{ pid: number, port: number, url: string, stop: () => Promise<void> }} Mosquitto */

/**
 * Starts mosquitto listening on 127.0.0.1:`port` (a free one when 0). Start it again with the same
 * `dir` and `port` to simulate a broker restart. Returns { pid, port, url, stop }.
 * @param {MosquittoOptions} options
 * @returns {Promise<Mosquitto>}
 */
export async function startMosquitto({ dir, port = 0, timeoutMs = 10_000, nodelay = true }) {
  // A free port can be taken by someone else before mosquitto binds it: then try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ dir, port: port || (await freePort()), timeoutMs, nodelay });
    } catch (error) {
      if (port || attempt === 3 || !(/** @type {PortError} */ (error).portTaken)) throw error;
    }
  }
}

/** @typedef {Error & { portTaken?: boolean }} PortError */

/**
 * @param {Required<MosquittoOptions>} options
 * @returns {Promise<Mosquitto>}
 */
async function startOnce({ dir, port, timeoutMs, nodelay }) {
  const mosquitto = requireCommand('mosquitto', 'mosquitto');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
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
  // Ready means our mosquitto holds the port and answers an MQTT CONNECT: a listener someone else
  // took the port with first is not ours.
  for (const deadline = Date.now() + timeoutMs; !(listensOn(child.pid, port) && (await mqttConnack(port, 500)) === 0); await sleep(50)) {
    if (!isRunning(child) || Date.now() > deadline) {
      await stopChild(child);
      /** @type {PortError} */
      const failure = new Error(`startMosquitto: mosquitto did not answer on 127.0.0.1:${port}\n${tail(logFile, 15)}`);
      failure.portTaken = !listensOn(child.pid, port) && (await canConnect(port));
      throw failure;
    }
  }
  const pid = /** @type {number} */ (child.pid); // it answered, so it was spawned
  return { pid, port, url: `mqtt://127.0.0.1:${port}`, stop: () => stopChild(child) };
}
