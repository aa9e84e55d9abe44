// The bare subscriber of bench:telemetry (forked, driven over IPC): one mqtt.js client that only
// counts — the ceiling of this machine. Its bits of parsing: the seq field, for gaps, and the ts
// field, to set apart messages published before this step (a broker's leftover backlog).
//   parent → {cmd:'start', url, since}  ← {ready}   parent → {cmd:'count'} ← {count}
//   parent → {cmd:'report'} ← {report: {device: {count, gaps, maxSeq}}, stale}
import mqtt from 'mqtt';

/** @typedef {{ cmd: 'start', url: string, since: number } | { cmd: 'count' } | { cmd: 'report' }} Command */

// Forked by bench:telemetry, so there is an IPC channel to the parent.
const toParent = /** @type {NonNullable<typeof process.send>} */ (process.send).bind(process);
/** @type {Map<string, { count: number, gaps: number, maxSeq: number }>} */
const devices = new Map();
let count = 0;
let stale = 0;
let since = 0;

/**
 * @param {string} topic
 * @param {Buffer} payload
 */
function onMessage(topic, payload) {
  const device = topic.slice(10, topic.length - 10); // makerdeck/<device>/telemetry
  if (!device.startsWith('dev-')) return; // the bench's probes
  let at = payload.indexOf('seq=') + 4;
  let seq = 0;
  for (let c = payload[at]; c !== undefined && c >= 48 && c <= 57; c = payload[++at]) seq = seq * 10 + c - 48;
  const ts = Number(payload.toString('latin1', at + 4, payload.indexOf(',', at + 4))); // ",ts=" follows seq
  if (ts < since) return void stale++;
  count++;
  let d = devices.get(device);
  if (!d) devices.set(device, (d = { count: 0, gaps: 0, maxSeq: -1 }));
  d.count++;
  if (seq > d.maxSeq + 1) d.gaps += seq - d.maxSeq - 1; // lost on the way (QoS 0 keeps order)
  d.maxSeq = Math.max(d.maxSeq, seq);
}

process.on('disconnect', () => process.exit(0)); // the bench went away
process.on('message', (message) => {
  const msg = /** @type {Command} */ (message);
  if (msg.cmd === 'start') {
    since = msg.since;
    const client = mqtt.connect(msg.url, {
      clientId: `bench-bare-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    client.on('message', onMessage);
    client.once('connect', () => {
      /** @type {import('node:net').Socket} */ (client.stream).setNoDelay(true);
      client.subscribe('makerdeck/+/telemetry', { qos: 0 }, (err) =>
        toParent(err ? { error: err.message } : { ready: true }),
      );
    });
    client.once('error', (err) => toParent({ error: err.message }));
  } else if (msg.cmd === 'count') toParent({ count });
  else if (msg.cmd === 'report') toParent({ report: Object.fromEntries(devices), stale });
});
