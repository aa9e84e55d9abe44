// From an MQTT message to points in the store: the topic names the device, the payload is line
// protocol (one point per line). Anything malformed, huge, binary or hostile is counted as
// rejected with its reason; nothing here throws.
import { DEVICE_ID_PATTERN } from '../../contract';
import { parseLineProtocol } from './lineProtocol';
import type { TelemetryStore } from './telemetryStore';

export const TELEMETRY_TOPIC = 'makerdeck/+/telemetry';
export const STATUS_TOPIC = 'makerdeck/+/status';
const MAX_PAYLOAD = 64 * 1024;
const MAX_LINES = 1000;

/** Line protocol timestamps are nanoseconds; the charts work in milliseconds. */
export function nanosToMillis(timestamp: string): number {
  return timestamp.length > 6 ? Number(timestamp.slice(0, -6)) : 0;
}

export function ingestMessage(store: TelemetryStore, topic: string, payload: Buffer, now: number, ignoreDevice?: (device: string) => boolean): void {
  const [prefix, device, kind, ...rest] = topic.split('/');
  if (prefix !== 'makerdeck' || !device || !DEVICE_ID_PATTERN.test(device) || rest.length > 0 || (kind !== 'telemetry' && kind !== 'status')) {
    return store.reject(topic, 'not a makerdeck/<device>/telemetry or /status topic', payload);
  }
  if (ignoreDevice?.(device)) return;
  if (kind === 'status') return ingestStatus(store, topic, device, payload);
  if (payload.length > MAX_PAYLOAD) return store.reject(topic, `larger than ${MAX_PAYLOAD / 1024} KiB`, payload);
  if (payload.includes(0)) return store.reject(topic, 'binary data, not line protocol', payload);
  const lines = payload.toString('utf8').split('\n');
  if (lines.length > MAX_LINES) return store.reject(topic, `more than ${MAX_LINES} lines in one message`, payload);
  for (const line of lines) {
    if (line.trim() === '') continue;
    const parsed = parseLineProtocol(line);
    if (!parsed.ok) {
      store.reject(topic, parsed.reason, line);
      continue;
    }
    const time = parsed.point.timestamp ? nanosToMillis(parsed.point.timestamp) : now;
    store.add(device, 'mqtt', parsed.point, time);
  }
}

function ingestStatus(store: TelemetryStore, topic: string, device: string, payload: Buffer): void {
  const status = payload.toString('utf8').trim().toLowerCase();
  if (status === 'online' || status === 'offline') store.setStatus(device, status);
  else store.reject(topic, 'a status is "online" or "offline"', payload);
}
