// From an MQTT message to points in the store: the topic names the device, the payload is line
// protocol (one point per line). Anything malformed, huge, binary, not UTF-8, stamped outside the
// time window or otherwise hostile is counted as rejected with its reason; nothing here throws.
import { isUtf8 } from 'node:buffer';
import { DEVICE_ID_PATTERN } from '../../contract';
import { parseLineProtocol } from '../lineProtocol';
import type { TelemetryStore } from './telemetryStore';

export const TELEMETRY_TOPIC = 'makerdeck/+/telemetry';
export const STATUS_TOPIC = 'makerdeck/+/status';
const MAX_PAYLOAD = 64 * 1024;
const MAX_LINES = 1000;

/**
 * The time window a point may carry. Before 2000 is a unit slip (seconds, ms or µs where line
 * protocol wants ns all land in 1970) or a board that never set its clock. Ahead of this computer's
 * clock by more than 5 minutes is a wrong clock: a board or laptop without NTP drifts by seconds a
 * day, so 5 minutes tolerates months of drift, and a point inside it only waits for its time (the
 * chart's right edge is this computer's clock), it never holds its series back.
 */
export const EARLIEST_MS = Date.UTC(2000, 0, 1);
export const MAX_AHEAD_MS = 5 * 60_000;

/** Line protocol timestamps are nanoseconds; the charts work in milliseconds (truncated toward zero). */
export function nanosToMillis(timestamp: string): number {
  const negative = timestamp.startsWith('-');
  const digits = negative ? timestamp.slice(1) : timestamp;
  const millis = digits.length > 6 ? Number(digits.slice(0, -6)) : 0;
  return negative && millis !== 0 ? -millis : millis;
}

/** The point's time in ms (its own, or `now` when it has none), or why it is outside the window. */
export function pointTime(timestamp: string | undefined, now: number): number | { reason: string } {
  if (timestamp === undefined) return now;
  const time = nanosToMillis(timestamp);
  if (time < EARLIEST_MS) {
    const when = new Date(time).toISOString();
    return { reason: `stamped before 2000-01-01 (${when}): line protocol timestamps are nanoseconds since 1970` };
  }
  if (time > now + MAX_AHEAD_MS) {
    const ahead = Math.ceil((time - now) / 1000);
    const limit = `at most ${MAX_AHEAD_MS / 1000} s`;
    return { reason: `stamped ${ahead} s ahead of this computer's clock (${limit}): check the device's clock (NTP)` };
  }
  return time;
}

/** Ingests one MQTT message; `ignoreDevice` skips devices whose points arrive another way. */
export function ingestMessage(
  store: TelemetryStore,
  topic: string,
  payload: Buffer,
  now: number,
  ignoreDevice?: (device: string) => boolean,
): void {
  const [prefix, device, kind, ...rest] = topic.split('/');
  if (
    prefix !== 'makerdeck' ||
    !device ||
    !DEVICE_ID_PATTERN.test(device) ||
    rest.length > 0 ||
    (kind !== 'telemetry' && kind !== 'status')
  ) {
    return store.reject(topic, 'not a makerdeck/<device>/telemetry or /status topic', payload);
  }
  if (ignoreDevice?.(device)) return;
  if (kind === 'status') return ingestStatus(store, topic, device, payload);
  if (payload.length > MAX_PAYLOAD) return store.reject(topic, `larger than ${MAX_PAYLOAD / 1024} KiB`, payload);
  if (payload.includes(0)) return store.reject(topic, 'binary data, not line protocol', payload);
  if (!isUtf8(payload)) return store.reject(topic, 'not valid UTF-8', payload);
  const lines = payload.toString('utf8').split('\n');
  if (lines.length > MAX_LINES) return store.reject(topic, `more than ${MAX_LINES} lines in one message`, payload);
  for (const line of lines) {
    if (line.trim() === '') continue;
    const parsed = parseLineProtocol(line);
    if (!parsed.ok) {
      store.reject(topic, parsed.reason, line);
      continue;
    }
    const time = pointTime(parsed.point.timestamp, now);
    const why = typeof time === 'number' ? store.add(device, 'mqtt', parsed.point, time, now) : time.reason;
    if (why) store.reject(topic, why, line);
  }
}

function ingestStatus(store: TelemetryStore, topic: string, device: string, payload: Buffer): void {
  const status = payload.length <= 16 ? payload.toString('utf8').trim().toLowerCase() : '';
  if (status === 'online' || status === 'offline') store.setStatus(device, status);
  else store.reject(topic, 'a status is "online" or "offline"', payload);
}
