// Live telemetry: points from the broker (and from boards on USB through the serial gateway),
// batched for the charts, with history from InfluxDB and export of what is on screen.
import { z } from 'zod';
import { BAUD_RATES } from './monitor';
import { DeviceId } from './profiles';

export const TelemetryConnectArgs = z
  .object({
    /** 4 = MQTT 3.1.1 (default: every broker speaks it), 5 = MQTT 5. */
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
    /** How long one connect attempt may wait for the broker's CONNACK. */
    connectTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
  })
  .strict();

export const TelemetryGatewayArgs = z
  .object({
    port: z.string().min(1, 'Pick the serial port of the board').max(255),
    baudRate: z
      .number()
      .refine(
        (rate) => (BAUD_RATES as readonly number[]).includes(rate),
        `The baud rate must be one of ${BAUD_RATES.join(', ')}`,
      )
      .default(115200),
  })
  .strict();

const Millis = z.number().int().min(0).max(8.64e15);
const SeriesRef = z.object({ device: DeviceId, field: z.string().min(1).max(256) }).strict();

export const TelemetryWindowArgs = z
  .object({ series: z.array(SeriesRef).min(1, 'Pick at least one series').max(64), from: Millis, to: Millis })
  .strict()
  .refine((args) => args.from < args.to, { message: 'The window must start before it ends' });

export const TelemetryHistoryArgs = z
  .object({
    series: z.array(SeriesRef).min(1, 'Pick at least one series').max(64),
    from: Millis,
    to: Millis,
    /** Points per series wanted: the chart's width in pixels. */
    points: z.number().int().min(10).max(10_000).default(1000),
  })
  .strict()
  .refine((args) => args.from < args.to, { message: 'The window must start before it ends' });

export const TelemetryCatalogArgs = z
  .object({ from: Millis, to: Millis })
  .strict()
  .refine((args) => args.from < args.to, { message: 'The window must start before it ends' });

/** Points of one series: times in ms since the epoch and values, in time order. */
export interface SeriesPoints {
  device: string;
  field: string;
  t: number[];
  v: number[];
  /** The device sent these values as integers (line protocol `1i`): exports keep them integers. */
  integer?: boolean;
}

export interface TelemetryBatch {
  series: SeriesPoints[];
  /** Devices whose online state or last values changed in this batch. */
  devices: DeviceView[];
  /** Totals so far. */
  accepted: number;
  rejected: number;
  /** Payloads rejected since the previous batch, with their reasons (at most 20; `rejected` counts all). */
  rejects?: RejectedPayload[];
}

export interface DeviceView {
  device: string;
  /**
   * From the device's status topic (retained `online`, last will `offline`), or, for a device that
   * never said, from its telemetry: online while it arrives, offline after a silence (see `statusNote`);
   * "unknown" until known.
   */
  status: 'online' | 'offline' | 'unknown';
  /** How the status is known, e.g. "from its telemetry" or "silent for 31 s". */
  statusNote?: string;
  source: 'mqtt' | 'serial';
  lastSeen?: number;
  /** The newest value of each numeric field (a list, not an object keyed by names a device chose). */
  last: LastValue[];
}

export interface LastValue {
  field: string;
  t: number;
  v: number;
}

export interface RejectedPayload {
  t: number;
  topic: string;
  reason: string;
  /** The start of the payload, printable characters only. */
  sample: string;
}

export type BrokerState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

export interface TelemetryState {
  /** `loginRefused`: the broker said no to the user name or password; retrying cannot fix that. */
  broker: { state: BrokerState; url?: string; message?: string; since: number; loginRefused?: boolean };
  gateway?: { port: string; device?: string; published: number; queued: number; message?: string };
  history: { state: 'unknown' | 'ok' | 'failed'; message?: string };
  /** Whether what arrives is stored in InfluxDB (the local stack's Telegraf, watched through its log). */
  storage?: StorageState;
}

/** A series InfluxDB refuses: its points are dropped by Telegraf, so it has no history from then on. */
export interface UnstoredSeries {
  measurement: string;
  field: string;
  /** The device whose series it is, when Makerdeck saw it send the refused type; else any device. */
  device?: string;
  reason: string;
}

export interface StorageState {
  /** `dropping`: points are lost; `failing`: writes fail and wait in Telegraf's buffer; `ok`: none lately. */
  state: 'ok' | 'dropping' | 'failing';
  /** e.g. "dropping points: field type conflict: x is integer, got float". */
  message?: string;
  lastAt?: number;
  series: UnstoredSeries[];
}

export interface TelemetryStatus extends TelemetryState {
  devices: DeviceView[];
  accepted: number;
  rejected: number;
  recentRejects: RejectedPayload[];
}

/**
 * One series' key, the same in the core and the page: a device id holds no '/' (DEVICE_ID_PATTERN),
 * so the first '/' separates the device from the field.
 */
export function seriesKey(device: string, field: string): string {
  return `${device}/${field}`;
}
