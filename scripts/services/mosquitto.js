// A private Mosquitto broker (Debian's) on 127.0.0.1 for tests and benchmarks: config and
// persistence under `dir`, anonymous access (loopback only) unless `users` are given, stopped by the
// PID we started.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { requireCommand } from './apt.js';
import { canConnect, freePort, listensOn, mqttConnack } from './ports.js';
import { isRunning, sleep, stopChild, tail } from './proc.js';

export const MOSQUITTO_PACKAGES = ['mosquitto'];

/**
 * @typedef {{ dir: string, port?: number, timeoutMs?: number, nodelay?: boolean,
 *   users?: Record<string, string>, persistence?: boolean }} MosquittoOptions
 */
/** @typedef {{ pid: number, port: number, url: string, stop: () => Promise<void> }} Mosquitto */

/**
 * Starts mosquitto listening on 127.0.0.1:`port` (a free one when 0). Start it again with the same
 * `dir` and `port` to simulate a broker restart; with `persistence`, persistent sessions (clean
 * session off) and the QoS 1 messages queued for them survive that restart, as on a real broker.
 * `users` ({ name: password }) turns anonymous access off and logs in through a password file
 * (hashed by mosquitto_passwd; no password in any argv). Returns { pid, port, url, stop }.
 * @param {MosquittoOptions} options
 * @returns {Promise<Mosquitto>}
 */
export async function startMosquitto({
  dir,
  port = 0,
  timeoutMs = 10_000,
  nodelay = true,
  users,
  persistence = false,
}) {
  // A free port can be taken by someone else before mosquitto binds it: then try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ dir, port: port || (await freePort()), timeoutMs, nodelay, users, persistence });
    } catch (error) {
      if (port || attempt === 3 || !(/** @type {PortError} */ (error).portTaken)) throw error;
    }
  }
}

/** @typedef {Error & { portTaken?: boolean }} PortError */

/**
 * @param {Required<Omit<MosquittoOptions, 'users'>> & Pick<MosquittoOptions, 'users'>} options
 * @returns {Promise<Mosquitto>}
 */
async function startOnce({ dir, port, timeoutMs, nodelay, users, persistence }) {
  const mosquitto = requireCommand('mosquitto', 'mosquitto');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      // Run as the user who started it: the password file lives in that user's private temp dir.
      ...(users
        ? [`user ${userInfo().username}`, 'allow_anonymous false', `password_file ${passwordFile(dir, users)}`]
        : ['allow_anonymous true']),
      // Nagle alone adds ~14 ms to every message at 10k/s
      `set_tcp_nodelay ${nodelay}`,
      'max_queued_messages 100000',
      // Run as root, mosquitto would drop to its own user, which may not write in `dir`: stay who we are.
      ...(persistence ? ['persistence true', `persistence_location ${dir}/`, `user ${userInfo().username}`] : []),
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
  // Ready means our mosquitto holds the port and answers an MQTT CONNECT (the anonymous probe is
  // refused, 5, when there are users): a listener someone else took the port with first is not ours.
  const answered = users ? 5 : 0;
  const ready = async () => listensOn(child.pid, port) && (await mqttConnack(port, 500)) === answered;
  for (const deadline = Date.now() + timeoutMs; !(await ready()); await sleep(50)) {
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

/**
 * Writes `user:password` lines, then has mosquitto_passwd hash them in place (-U).
 * @param {string} dir
 * @param {Record<string, string>} users
 * @returns {string} the password file
 */
function passwordFile(dir, users) {
  const file = join(dir, 'passwords');
  const lines = Object.entries(users).map(([name, password]) => `${name}:${password}\n`);
  writeFileSync(file, lines.join(''), { mode: 0o600 });
  execFileSync(requireCommand('mosquitto_passwd', 'mosquitto'), ['-U', file], { stdio: 'pipe' });
  return file;
}
