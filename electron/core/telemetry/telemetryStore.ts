// Every device's recent points, per field, in fixed-size rings (a hard memory bound whatever the
// message rate), plus the batch of what is new since the charts were last told.
import type { DeviceView, RejectedPayload, SeriesPoints, TelemetryBatch } from '../../contract';
import type { Point } from './lineProtocol';
import { SeriesRing } from './seriesRing';

export interface StoreLimits {
  /** Points kept per series (the live window; older points come from InfluxDB). */
  pointsPerSeries: number;
  maxSeries: number;
}

/** 256 series × 20,000 points × 16 bytes: at most 82 MB however many devices publish. */
export const DEFAULT_LIMITS: StoreLimits = { pointsPerSeries: 20_000, maxSeries: 256 };
const RECENT_REJECTS = 20;

interface Series {
  key: string;
  ring: SeriesRing;
  /** This series' points in the batch being gathered (also in `pending`). */
  pending?: SeriesPoints;
}

export class TelemetryStore {
  private readonly series = new Map<string, Series>();
  private readonly devices = new Map<string, DeviceView>();
  private pending = new Map<string, SeriesPoints>();
  private changed = new Set<string>();
  /** Rejects alone still need a batch, so the counts on screen move. */
  private countsChanged = false;
  private readonly rejects: RejectedPayload[] = [];
  accepted = 0;
  rejected = 0;

  constructor(private readonly limits: StoreLimits = DEFAULT_LIMITS) {}

  /** Adds the numeric fields of one point (booleans as 0/1; strings are not charted). */
  add(device: string, source: DeviceView['source'], point: Point, time: number): void {
    const state = this.device(device, source);
    let reason = 'no numeric field to chart';
    let kept = false;
    for (const field in point.fields) {
      const raw = point.fields[field];
      const value = typeof raw === 'boolean' ? Number(raw) : raw;
      if (typeof value !== 'number') continue;
      const refused = this.addValue(state, field, time, value);
      if (refused) reason = refused;
      else kept = true;
    }
    if (!kept) return this.reject(`makerdeck/${device}/telemetry`, reason, '');
    this.accepted++;
    state.lastSeen = time;
    this.changed.add(device);
  }

  /** Keeps one value (the hot path: one map lookup, no allocation); returns why not when it cannot. */
  private addValue(state: DeviceView, field: string, time: number, value: number): string | undefined {
    const series = this.seriesOf(state.device, field);
    if (!series) return `more than ${this.limits.maxSeries} series: new ones are not kept`;
    if (!series.ring.push(time, value)) return 'older than the last point of its series';
    if (!series.pending) this.pending.set(series.key, (series.pending = { device: state.device, field, t: [], v: [] }));
    series.pending.t.push(time);
    series.pending.v.push(value);
    const last = state.last[field];
    if (last) {
      last.t = time;
      last.v = value;
    } else state.last[field] = { t: time, v: value };
    return undefined;
  }

  reject(topic: string, reason: string, payload: string | Buffer): void {
    this.rejected++;
    this.countsChanged = true;
    const sample = (typeof payload === 'string' ? payload : payload.subarray(0, 120).toString('latin1')).slice(0, 80).replace(/[^\x20-\x7e]/g, '.');
    this.rejects.push({ t: Date.now(), topic: topic.slice(0, 200), reason, sample });
    if (this.rejects.length > RECENT_REJECTS) this.rejects.shift();
  }

  setStatus(device: string, status: DeviceView['status'], source: DeviceView['source'] = 'mqtt'): void {
    const state = this.device(device, source);
    if (state.status === status) return;
    state.status = status;
    this.changed.add(device);
  }

  /** What arrived since the last call, or undefined when nothing did. */
  takeBatch(): TelemetryBatch | undefined {
    if (this.pending.size === 0 && this.changed.size === 0 && !this.countsChanged) return undefined;
    const batch: TelemetryBatch = {
      series: [...this.pending.values()],
      devices: [...this.changed].map((id) => this.view(this.devices.get(id)!)),
      accepted: this.accepted,
      rejected: this.rejected,
    };
    for (const series of this.series.values()) series.pending = undefined;
    this.pending = new Map();
    this.changed = new Set();
    this.countsChanged = false;
    return batch;
  }

  window(refs: Array<{ device: string; field: string }>, from: number, to: number): SeriesPoints[] {
    return refs.map(({ device, field }) => ({ device, field, ...(this.series.get(seriesKey(device, field))?.ring.range(from, to) ?? { t: [], v: [] }) }));
  }

  deviceViews(): DeviceView[] {
    return [...this.devices.values()].map((d) => this.view(d));
  }

  sourceOf(device: string): DeviceView['source'] | undefined {
    return this.devices.get(device)?.source;
  }

  recentRejects(): RejectedPayload[] {
    return [...this.rejects];
  }

  private device(id: string, source: DeviceView['source']): DeviceView {
    let state = this.devices.get(id);
    if (!state) {
      state = { device: id, status: 'unknown', source, last: {} };
      this.devices.set(id, state);
    }
    state.source = source;
    return state;
  }

  private seriesOf(device: string, field: string): Series | undefined {
    const id = seriesKey(device, field);
    let series = this.series.get(id);
    if (!series && this.series.size < this.limits.maxSeries) {
      series = { key: id, ring: new SeriesRing(this.limits.pointsPerSeries) };
      this.series.set(id, series);
    }
    return series;
  }

  private view({ last, ...device }: DeviceView): DeviceView {
    return { ...device, last: Object.fromEntries(Object.entries(last).map(([field, point]) => [field, { ...point }])) };
  }
}

/** One series' key (NUL cannot occur in a device id or a line-protocol field key). */
export function seriesKey(device: string, field: string): string {
  return `${device}\u0000${field}`;
}
