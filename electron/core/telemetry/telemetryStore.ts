// Every device's recent points, per field, in fixed-size rings (a hard memory bound whatever the
// message rate or the number of devices), plus the batch of what is new since the charts were last
// told. Devices and fields are Map keys, never keys of plain objects: a field named "constructor"
// or "__proto__" is only a name.
//
// Fairness: a device keeps at most `seriesPerDevice` series, and when all `maxSeries` are taken a
// device with fewer series takes the least recently updated one of the device with the most, so a
// noisy device can never take the others' room (N devices each keep min(their fields, ~maxSeries/N)).
import {
  seriesKey,
  type DeviceView,
  type RejectedPayload,
  type SeriesPoints,
  type TelemetryBatch,
} from '../../contract';
import type { Point } from '../lineProtocol';
import { SeriesRing } from './seriesRing';

export interface StoreLimits {
  /** Points kept per series (the live window; older points come from InfluxDB). */
  pointsPerSeries: number;
  maxSeries: number;
  seriesPerDevice: number;
  maxDevices: number;
  /** Points stamped ahead of this computer's clock that may wait for their time, per series. */
  waitingPerSeries: number;
}

/** 256 series × 20,000 points × 16 bytes: at most 82 MB however many devices publish. */
export const DEFAULT_LIMITS: StoreLimits = {
  pointsPerSeries: 20_000,
  maxSeries: 256,
  seriesPerDevice: 64,
  maxDevices: 1024,
  waitingPerSeries: 1000,
};
const RECENT_REJECTS = 20;
/** Gaps between arrivals kept per device to judge its interval. */
const GAPS_KEPT = 8;
/** The firmware's default interval: assumed until a device's own is seen. */
const DEFAULT_INTERVAL_MS = 10_000;
/**
 * A device inferred online is offline after this many of its intervals without telemetry (at
 * least 5 s); its interval is the median gap, so one late point does not stretch it.
 */
const SILENT_INTERVALS = 3;
const MIN_SILENCE_MS = 5_000;
const OLDER = 'older than the last point of its series';

interface DeviceState {
  device: string;
  status: DeviceView['status'];
  /** `status`: its status topic said; `telemetry`: inferred from telemetry arriving (it never said). */
  statusFrom?: 'status' | 'telemetry';
  statusNote?: string;
  source: DeviceView['source'];
  /** Arrival (this computer's clock) of its last MQTT telemetry, and the gaps between recent ones. */
  heardAt?: number;
  gaps: number[];
  lastSeen?: number;
  last: Map<string, { t: number; v: number }>;
  series: Map<string, Series>;
}

interface Series {
  key: string;
  field: string;
  owner: DeviceState;
  ring: SeriesRing;
  /** Arrival time of its newest point: the least recently updated series is given up first. */
  updated: number;
  /** This series' points in the batch being gathered (also in `pending`). */
  pending?: SeriesPoints;
  /** Points stamped ahead of the clock, in time order, until the clock reaches them. */
  waiting?: { t: number[]; v: number[] };
  /** Its newest value was sent as an integer (`1i`): exports keep the type InfluxDB stored. */
  integer: boolean;
}

export class TelemetryStore {
  readonly limits: StoreLimits;
  private readonly series = new Map<string, Series>();
  private readonly devices = new Map<string, DeviceState>();
  /** Devices holding at least one series (at most maxSeries of them). */
  private readonly holders = new Set<DeviceState>();
  private readonly waiting = new Set<Series>();
  private pending = new Map<string, SeriesPoints>();
  private changed = new Set<string>();
  /** Rejects alone still need a batch, so the counts on screen move. */
  private countsChanged = false;
  private readonly rejects: RejectedPayload[] = [];
  /** Rejects since the last batch, for `telemetry tail` (at most RECENT_REJECTS; the count says the rest). */
  private newRejects: RejectedPayload[] = [];
  accepted = 0;
  rejected = 0;

  constructor(limits: Partial<StoreLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /**
   * Adds the numeric fields of one point (booleans as 0/1; strings are not charted) stamped `time`,
   * arriving at `now`. Returns why fields were not kept (the caller rejects with its own sample), or
   * undefined when all were; a point with at least one field kept counts as accepted.
   */
  add(device: string, source: DeviceView['source'], point: Point, time: number, now = time): string | undefined {
    const state = this.device(device, source);
    if (!state) return this.tooManyDevices();
    if (source === 'mqtt') this.heard(state, now);
    let reason = 'no numeric field to chart';
    let kept = 0;
    let refused = 0;
    let roomless = false; // the fair-share answer cannot change within one point
    for (const [field, raw] of point.fields) {
      const value = typeof raw === 'boolean' ? Number(raw) : raw;
      if (typeof value !== 'number') continue;
      const series = this.seriesOf(state, field, now, !roomless);
      if (typeof series !== 'string') this.typed(series, point.integers?.has(field) === true);
      const why = typeof series === 'string' ? series : this.addValue(series, time, value, now);
      if (why === undefined) kept++;
      else {
        refused++;
        reason = why;
        roomless ||= why === this.fullReason();
      }
    }
    if (kept > 0) this.accepted++;
    if (refused > 0 && kept > 0) return `${refused} of ${kept + refused} fields not kept: ${reason}`;
    return kept > 0 ? undefined : reason;
  }

  /** Keeps one value (the hot path: one map lookup, no allocation); returns why not when it cannot. */
  private addValue(series: Series, time: number, value: number, now: number): string | undefined {
    series.updated = now;
    if (series.waiting && series.waiting.t[0]! <= now) this.release(series, now);
    if (time > now) return this.wait(series, time, value);
    if (!series.ring.push(time, value)) return OLDER;
    this.charted(series, time, value);
    return undefined;
  }

  /** A point stamped ahead of the clock waits for its time, so it never holds its series back. */
  private wait(series: Series, time: number, value: number): string | undefined {
    const waiting = (series.waiting ??= { t: [], v: [] });
    if (waiting.t.length >= this.limits.waitingPerSeries) {
      const limit = this.limits.waitingPerSeries;
      const advice = "check the device's clock (NTP)";
      return `more than ${limit} points stamped ahead of this computer's clock wait in this series: ${advice}`;
    }
    if (waiting.t.length > 0 && time < waiting.t.at(-1)!) return OLDER;
    waiting.t.push(time);
    waiting.v.push(value);
    this.waiting.add(series);
    return undefined;
  }

  private release(series: Series, now: number): void {
    const waiting = series.waiting!;
    let due = 0;
    while (due < waiting.t.length && waiting.t[due]! <= now) {
      if (series.ring.push(waiting.t[due]!, waiting.v[due]!)) this.charted(series, waiting.t[due]!, waiting.v[due]!);
      due++;
    }
    waiting.t.splice(0, due);
    waiting.v.splice(0, due);
    if (waiting.t.length === 0) {
      series.waiting = undefined;
      this.waiting.delete(series);
    }
  }

  /** A series whose type changes starts a new batch entry, so each entry has one type. */
  private typed(series: Series, integer: boolean): void {
    if (series.integer === integer) return;
    series.integer = integer;
    if (series.pending) {
      this.pending.delete(series.key);
      this.pending.set(`${series.key}\u0000${this.pending.size}`, series.pending);
      series.pending = undefined;
    }
  }

  /** A point is in its ring: into the batch and the device's last values. */
  private charted(series: Series, time: number, value: number): void {
    const { owner, field } = series;
    if (!series.pending) {
      series.pending = { device: owner.device, field, t: [], v: [], ...(series.integer ? { integer: true } : {}) };
      this.pending.set(series.key, series.pending);
    }
    series.pending.t.push(time);
    series.pending.v.push(value);
    const last = owner.last.get(field);
    if (last) {
      last.t = time;
      last.v = value;
    } else owner.last.set(field, { t: time, v: value });
    if (!(owner.lastSeen! >= time)) owner.lastSeen = time;
    this.changed.add(owner.device);
  }

  reject(topic: string, reason: string, payload: string | Buffer): void {
    this.rejected++;
    this.countsChanged = true;
    const sample = (typeof payload === 'string' ? payload : payload.subarray(0, 120).toString('latin1'))
      .slice(0, 80)
      .replace(/[^\x20-\x7e]/g, '.');
    const entry = { t: Date.now(), topic: printable(topic, 200), reason: printable(reason, 300), sample };
    this.rejects.push(entry);
    if (this.rejects.length > RECENT_REJECTS) this.rejects.shift();
    if (this.newRejects.length < RECENT_REJECTS) this.newRejects.push(entry);
  }

  /** The device's status topic said (live, retained or its last will): that is the truth from now on. */
  setStatus(device: string, status: DeviceView['status'], source: DeviceView['source'] = 'mqtt'): void {
    const state = this.device(device, source);
    if (!state) return this.reject(`makerdeck/${device}/status`, this.tooManyDevices(), status);
    const note = source === 'serial' ? 'on USB' : 'from its status topic';
    this.status(state, status, note, 'status');
  }

  /**
   * Telemetry arrived: the device is online. One that never published a status (or whose broker
   * did not hand its retained status over) is known only this way, so its interval is learned.
   */
  private heard(state: DeviceState, now: number): void {
    if (state.heardAt !== undefined && now > state.heardAt) {
      state.gaps.push(now - state.heardAt);
      if (state.gaps.length > GAPS_KEPT) state.gaps.shift();
    }
    state.heardAt = now;
    if (state.status === 'online') return;
    this.status(state, 'online', 'from its telemetry', 'telemetry');
  }

  /**
   * Devices known online only from their telemetry go offline after a silence of a few of their
   * intervals (a status topic, when there is one, says it sooner through the last will).
   */
  sweepSilent(now = Date.now()): void {
    for (const state of this.devices.values()) {
      if (state.statusFrom !== 'telemetry' || state.status !== 'online' || state.heardAt === undefined) continue;
      const interval = state.gaps.length > 0 ? median(state.gaps) : DEFAULT_INTERVAL_MS;
      const silent = now - state.heardAt;
      if (silent <= Math.max(SILENT_INTERVALS * interval, MIN_SILENCE_MS)) continue;
      this.status(state, 'offline', `silent for ${Math.round(silent / 1000)} s (no status topic)`, 'telemetry');
    }
  }

  private status(state: DeviceState, status: DeviceView['status'], note: string, from: 'status' | 'telemetry'): void {
    state.statusFrom = from;
    if (state.status === status && state.statusNote === note) return;
    state.status = status;
    state.statusNote = note;
    this.changed.add(state.device);
  }

  /** What arrived since the last call (points whose time has come included), or undefined when nothing did. */
  takeBatch(now = Date.now()): TelemetryBatch | undefined {
    for (const series of this.waiting) this.release(series, now);
    if (this.pending.size === 0 && this.changed.size === 0 && !this.countsChanged) return undefined;
    const batch: TelemetryBatch = {
      series: [...this.pending.values()],
      devices: [...this.changed].flatMap((id) => {
        const state = this.devices.get(id);
        return state ? [this.view(state)] : [];
      }),
      accepted: this.accepted,
      rejected: this.rejected,
      rejects: this.newRejects,
    };
    this.newRejects = [];
    for (const series of this.series.values()) series.pending = undefined;
    this.pending = new Map();
    this.changed = new Set();
    this.countsChanged = false;
    return batch;
  }

  window(refs: Array<{ device: string; field: string }>, from: number, to: number): SeriesPoints[] {
    return refs.map(({ device, field }) => {
      const series = this.series.get(seriesKey(device, field));
      return { device, field, ...(series?.ring.range(from, to) ?? { t: [], v: [] }), ...integerFlag(series) };
    });
  }

  /** Devices whose newest value of `field` was sent as an integer (or as a float). */
  devicesSending(field: string, integer: boolean): string[] {
    const devices: string[] = [];
    for (const series of this.series.values())
      if (series.field === field && series.integer === integer) devices.push(series.owner.device);
    return devices;
  }

  deviceViews(): DeviceView[] {
    return [...this.devices.values()].map((d) => this.view(d));
  }

  sourceOf(device: string): DeviceView['source'] | undefined {
    return this.devices.get(device)?.source;
  }

  /** How many series a device holds now. */
  seriesCount(device: string): number {
    return this.devices.get(device)?.series.size ?? 0;
  }

  recentRejects(): RejectedPayload[] {
    return [...this.rejects];
  }

  private device(id: string, source: DeviceView['source']): DeviceState | undefined {
    let state = this.devices.get(id);
    if (!state) {
      if (this.devices.size >= this.limits.maxDevices && !this.forgetIdleDevice()) return undefined;
      state = { device: id, status: 'unknown', source, gaps: [], last: new Map(), series: new Map() };
      this.devices.set(id, state);
    }
    state.source = source;
    return state;
  }

  /** Makes room for a new device by forgetting the oldest one that holds no series. */
  private forgetIdleDevice(): boolean {
    for (const [id, state] of this.devices) {
      if (state.series.size > 0) continue;
      this.devices.delete(id);
      this.changed.delete(id);
      return true;
    }
    return false;
  }

  private seriesOf(state: DeviceState, field: string, now: number, mayTake: boolean): Series | string {
    const existing = state.series.get(field);
    if (existing) return existing;
    if (state.series.size >= this.limits.seriesPerDevice) {
      return `at most ${this.limits.seriesPerDevice} series per device: new fields are not kept`;
    }
    if (this.series.size >= this.limits.maxSeries && !(mayTake && this.takeFairShare(state))) return this.fullReason();
    const key = seriesKey(state.device, field);
    const ring = new SeriesRing(this.limits.pointsPerSeries);
    const pending = this.pending.get(key);
    const series: Series = {
      key,
      field,
      owner: state,
      ring,
      updated: now,
      pending,
      integer: pending?.integer === true,
    };
    this.series.set(key, series);
    state.series.set(field, series);
    this.holders.add(state);
    return series;
  }

  private fullReason(): string {
    const all = this.limits.maxSeries;
    return `all ${all} series are taken by devices holding no more than their share: new fields are not kept`;
  }

  private tooManyDevices(): string {
    return `more than ${this.limits.maxDevices} devices, all holding series: this one is not kept`;
  }

  /** Gives `state` the least recently updated series of the device with the most, if that is fairer. */
  private takeFairShare(state: DeviceState): boolean {
    let biggest: DeviceState | undefined;
    for (const holder of this.holders) if (!biggest || holder.series.size > biggest.series.size) biggest = holder;
    if (!biggest || biggest.series.size <= state.series.size + 1) return false;
    let oldest: Series | undefined;
    for (const series of biggest.series.values()) if (!oldest || series.updated < oldest.updated) oldest = series;
    this.drop(oldest!);
    return true;
  }

  /** Forgets a series (its points already sent stay on the charts; InfluxDB keeps its history). */
  private drop(series: Series): void {
    const { owner } = series;
    this.series.delete(series.key);
    this.waiting.delete(series);
    owner.series.delete(series.field);
    owner.last.delete(series.field);
    if (owner.series.size === 0) this.holders.delete(owner);
    this.changed.add(owner.device);
  }

  private view({ device, status, statusNote, source, lastSeen, last }: DeviceState): DeviceView {
    const values = [...last].map(([field, { t, v }]) => ({ field, t, v }));
    return { device, status, ...(statusNote ? { statusNote } : {}), source, lastSeen, last: values };
  }

  /** Whether a device is known here (by its telemetry or its status). */
  has(device: string): boolean {
    return this.devices.has(device);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function integerFlag(series: Series | undefined): { integer?: true } {
  return series?.integer ? { integer: true } : {};
}

/** Control characters out, length bounded: reasons and topics are shown on screens and terminals. */
function printable(text: string, max: number): string {
  return text.slice(0, max).replace(/[\u0000-\u001f\u007f-\u009f]/g, '.');
}
