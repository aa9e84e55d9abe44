// Loopback port helpers shared by the service launchers: a free port, whether something listens,
// and whether an MQTT broker (not just any listener) answers there.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/**
 * A port nobody listens on right now.
 * @returns {Promise<number>}
 */
export async function freePort() {
  const server = net.createServer();
  await /** @type {Promise<void>} */ (new Promise((resolve) => server.listen(0, '127.0.0.1', resolve)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Whether something accepts connections on 127.0.0.1:`port`.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
export function canConnect(port) {
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
 * Sends a bare MQTT 3.1.1 CONNECT (no username: the anonymous path) and resolves the CONNACK return
 * code, or undefined when nothing answers. The port opens before the MQTT plugin can take
 * sessions, so the listener alone is not "ready".
 * @param {number} port
 * @returns {Promise<number | undefined>}
 */
export function mqttConnack(port, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const clientId = Buffer.from(`probe-${randomBytes(4).toString('hex')}`);
    const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 30]); // "MQTT", level 4, clean session, keepalive 30 s
    const body = Buffer.concat([variable, Buffer.from([clientId.length >> 8, clientId.length & 0xff]), clientId]);
    const socket = net.connect(port, '127.0.0.1');
    /** @param {number | undefined} code */
    const done = (code) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    let got = Buffer.alloc(0);
    socket.once('connect', () => socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body])));
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4) done(got[0] === 0x20 ? got[3] : undefined);
    });
    socket.once('error', () => done(undefined));
    socket.once('close', () => done(undefined));
  });
}

/**
 * Whether process `pid` itself holds the listening socket on 127.0.0.1:`port` (Linux /proc).
 * @param {number | undefined} pid
 * @param {number} port
 */
export function listensOn(pid, port) {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const listening = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((f) => f[1] === local && f[3] === '0A'); // 0A: LISTEN
  if (!listening) return false;
  try {
    return readdirSync(`/proc/${pid}/fd`).some(
      (fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${listening[9]}]`,
    );
  } catch {
    return false; // the process is gone
  }
}
