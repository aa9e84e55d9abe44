// One publisher process of bench:telemetry (forked, driven over IPC): one MQTT connection per
// device, as real boards have, QoS 0 line protocol on makerdeck/<device>/telemetry. 8 numeric
// fields: seq (per device, from 0, so receivers can count gaps), ts (publish time, ms since the
// epoch with a fraction, for latency) and 6 values.
//   parent → {cmd:'start', url, devices, rate, durationMs}   rate: msg/s for this process, 0 = full speed
//   ← {ready}  parent → {cmd:'go'}  ← {done, published:{device: n}, startedAt, endedAt}; then SIGTERM
import mqtt from 'mqtt';

/**
 * @typedef {import('mqtt').MqttClient} MqttClient
 * @typedef {import('node:net').Socket} Socket
 * @typedef {{ cmd: 'start', url: string, devices: string[], rate: number, durationMs: number } | { cmd: 'go' }} Command
 * @typedef {{ id: string, client: MqttClient, seq: number, topic: string }} Device
 */

const now = () => performance.timeOrigin + performance.now();
const TICK_MS = 5;
// Forked by bench:telemetry, so there is an IPC channel to the parent.
const toParent = /** @type {NonNullable<typeof process.send>} */ (process.send).bind(process);

/**
 * @param {string} device
 * @param {number} seq
 */
function payload(device, seq) {
  const ts = now();
  return `telemetry,device=${device} seq=${seq},ts=${ts},f1=${20 + (seq % 97) / 10},f2=${(seq % 977) / 4},f3=${seq % 1013},f4=${-(seq % 89) / 8},f5=${(seq * 7) % 10007},f6=${(seq % 3) / 3}`;
}

/**
 * @param {string} url
 * @param {string} device
 * @returns {Promise<MqttClient>}
 */
function connect(url, device) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId: `bench-${device}-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    client.once('connect', () => {
      /** @type {Socket} */ (client.stream).setNoDelay(true); // mqtt.js leaves Nagle on: ~14 ms per message at 10k/s
      resolve(client);
    });
    client.once('error', reject);
  });
}

/** @type {(Extract<Command, { cmd: 'start' }> & { devs: Device[] }) | undefined} */
let job;
process.on('disconnect', () => process.exit(0)); // the bench went away
// Stopped: reset the connections, so what the broker has not read yet is dropped with them rather
// than delivered into the next step (RabbitMQ keeps working through a full-speed backlog for a minute).
process.on('SIGTERM', () => {
  for (const d of job?.devs ?? []) /** @type {Socket} */ (d.client.stream).resetAndDestroy();
  process.exit(0);
});

process.on('message', async (message) => {
  const msg = /** @type {Command} */ (message);
  if (msg.cmd === 'start') {
    const clients = await Promise.all(msg.devices.map((d) => connect(msg.url, d)));
    job = {
      ...msg,
      devs: msg.devices.map((id, i) => ({
        id,
        client: /** @type {MqttClient} */ (clients[i]),
        seq: 0,
        topic: `makerdeck/${id}/telemetry`,
      })),
    };
    toParent({ ready: true });
  } else if (msg.cmd === 'go') {
    const { devs, rate, durationMs } = /** @type {NonNullable<typeof job>} */ (job);
    const startedAt = now();
    const end = startedAt + durationMs;
    const send = (/** @type {Device} */ d) => d.client.publish(d.topic, payload(d.id, d.seq++), { qos: 0 });
    // A device whose socket buffer is full waits for 'drain': the broker (TCP) sets the pace, and
    // what it refuses is not published rather than piled up in this process.
    const blocked = (/** @type {Device} */ d) => /** @type {Socket} */ (d.client.stream).writableNeedDrain;
    await new Promise((resolve) => {
      setTimeout(resolve, durationMs);
      if (rate === 0) {
        // Full speed: every device sends bursts while its socket takes them (yielding between
        // bursts, so all devices get their turn) and waits for 'drain' when it is full — which a
        // broker that stopped reading may never send: the step ends on the clock regardless.
        const pump = (/** @type {Device} */ d) => {
          if (now() >= end) return;
          for (let i = 0; i < 256 && !blocked(d); i++) send(d);
          if (blocked(d)) /** @type {Socket} */ (d.client.stream).once('drain', () => pump(d));
          else setImmediate(pump, d);
        };
        devs.forEach((d) => setImmediate(pump, d));
      } else {
        // Fixed rate: a tick every 5 ms sends what the clock says is due, round robin over the
        // devices; it catches up at most 100 ms of backlog (then the achieved rate shows it).
        let sent = 0;
        let next = 0;
        const timer = setInterval(() => {
          const t = now();
          if (t >= end) return clearInterval(timer);
          const due = Math.floor(((t - startedAt) * rate) / 1000);
          sent = Math.max(sent, due - rate / 10);
          for (let tries = 0; sent < due && tries < devs.length;) {
            const d = /** @type {Device} */ (devs[next]);
            next = (next + 1) % devs.length;
            if (blocked(d)) tries++;
            else {
              send(d);
              sent++;
              tries = 0;
            }
          }
        }, TICK_MS);
      }
    });
    // "published" = handed to this process's sockets; what a busy broker has not read yet is
    // still in the socket buffers, and goes out while the parent waits for stragglers.
    toParent({ done: true, published: Object.fromEntries(devs.map((d) => [d.id, d.seq])), startedAt, endedAt: now() });
    // stays (connected) until the parent stops it
  }
});
