// The Telemetry page's data, outside React: chart buffers for the series on screen, fed by the
// host's batches, and filled — when a series appears or the window widens — from InfluxDB history
// (older) plus the host's live ring (recent), merged in time order with what arrived meanwhile.
import {
  seriesKey,
  type DeviceView,
  type SeriesPoints,
  type TelemetryBatch,
  type TelemetryState,
} from '../../../../electron/contract/telemetry';
import { api } from '../../api/client';
import { SeriesStore } from './chart';

/** Points per series on screen: 1,000,000 × 12 bytes (float32 values) = 12 MB each. */
export const POINTS_PER_SERIES = 1_000_000;
export const MAX_SERIES_ON_SCREEN = 12;
const HISTORY_RETRY_MS = 15_000;

export interface Snapshot {
  state?: TelemetryState;
  devices: DeviceView[];
  accepted: number;
  rejected: number;
  historyError?: string;
}

export class LiveTelemetry {
  readonly store = new SeriesStore(POINTS_PER_SERIES, { float32: true });
  /** Series whose newest values came as integers (`1i`): the line-protocol export keeps them so. */
  readonly integers = new Set<string>();
  private readonly devices = new Map<string, DeviceView>();
  private snapshot: Snapshot = { devices: [], accepted: 0, rejected: 0 };
  private shown = new Map<string, { device: string; field: string }>();
  /** While a series is being filled: batches already in the host's answer, or newer ones kept for after it. */
  private readonly stash = new Map<string, 'in-window' | { t: number[]; v: number[] }>();
  private spanMs = 60_000;
  private retry?: ReturnType<typeof setTimeout>;
  private cardsTimer?: ReturnType<typeof setTimeout>;
  private counts = { accepted: 0, rejected: 0 };
  private readonly listeners = new Set<(snapshot: Snapshot) => void>();
  private readonly unsubscribe: Array<() => void> = [];

  start(): void {
    this.unsubscribe.push(api().on('telemetry.batch', (batch) => this.receive(batch)));
    this.unsubscribe.push(api().on('telemetry.state', (state) => this.update({ state })));
    void api()
      .call('telemetry.status', {})
      .then((status) => {
        for (const device of status.devices) this.devices.set(device.device, device);
        this.update({
          state: status,
          devices: [...this.devices.values()],
          accepted: status.accepted,
          rejected: status.rejected,
        });
      });
    void this.discover();
  }

  /** Devices stored in InfluxDB in the last day appear too (as "status unknown") with their history. */
  private async discover(): Promise<void> {
    const to = Date.now();
    const stored = await api()
      .call('telemetry.catalog', { from: to - 86_400_000, to })
      .catch(() => []);
    for (const device of stored) if (!this.devices.has(device.device)) this.devices.set(device.device, device);
    if (stored.length > 0) this.update({ devices: [...this.devices.values()] });
  }

  stop(): void {
    clearTimeout(this.retry);
    clearTimeout(this.cardsTimer);
    for (const off of this.unsubscribe.splice(0)) off();
  }

  subscribe(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    listener(this.snapshot);
    return () => this.listeners.delete(listener);
  }

  /** The series on screen and the live window: new series (or a wider window) are filled. */
  show(series: Array<{ device: string; field: string }>, spanMs: number): void {
    const wider = spanMs > this.spanMs;
    this.spanMs = spanMs;
    const next = new Map(series.map((s) => [seriesKey(s.device, s.field), s]));
    for (const key of this.shown.keys()) if (!next.has(key)) this.store.delete(key);
    const toFill = [...next.entries()].filter(([key]) => wider || !this.shown.has(key));
    this.shown = next;
    if (toFill.length > 0) void this.fill(toFill.map(([, s]) => s));
  }

  private receive(batch: TelemetryBatch): void {
    for (const s of batch.series) {
      const key = seriesKey(s.device, s.field);
      this.typed(key, s);
      if (!this.shown.has(key)) continue;
      const stashed = this.stash.get(key);
      if (stashed === 'in-window') continue;
      if (stashed) {
        stashed.t.push(...s.t);
        stashed.v.push(...s.v);
      } else this.store.push(key, s.t, s.v);
    }
    for (const device of batch.devices)
      this.devices.set(device.device, withStored(this.devices.get(device.device), device));
    this.counts = { accepted: batch.accepted, rejected: batch.rejected };
    // Cards and counters: four times a second is plenty (the chart redraws on its own, per frame).
    this.cardsTimer ??= setTimeout(() => {
      this.cardsTimer = undefined;
      this.update({ devices: [...this.devices.values()], ...this.counts });
    }, 250);
  }

  /**
   * History first, then the host's ring, then what arrived since: one time-ordered run. The host
   * sends every batch it has before it answers `telemetry.window`, so batches that come before the
   * answer are in it (dropped here) and batches after it are newer (kept until the merge).
   */
  private async fill(series: Array<{ device: string; field: string }>): Promise<void> {
    const keys = series.map((s) => seriesKey(s.device, s.field));
    for (const key of keys) this.stash.set(key, 'in-window');
    const to = Date.now() + 1000;
    const from = to - this.spanMs;
    const points = Math.max(100, Math.min(10_000, Math.round(window.innerWidth)));
    try {
      const live = api()
        .call('telemetry.window', { series, from, to })
        .then((result) => {
          for (const key of keys) this.stash.set(key, { t: [], v: [] });
          return result;
        });
      const [history, recent] = await Promise.all([this.history(series, from, to, points), live]);
      keys.forEach((key, i) => this.merge(key, history[i], recent[i]));
    } finally {
      keys.forEach((key) => this.flushStash(key));
    }
  }

  private async history(
    series: Array<{ device: string; field: string }>,
    from: number,
    to: number,
    points: number,
  ): Promise<SeriesPoints[]> {
    try {
      const result = await api().call('telemetry.history', { series, from, to, points });
      this.update({ historyError: undefined });
      return result;
    } catch (error) {
      this.historyFailed((error as Error).message, series);
      return [];
    }
  }

  private typed(key: string, points: SeriesPoints | undefined): void {
    if (!points || points.t.length === 0) return;
    if (points.integer) this.integers.add(key);
    else this.integers.delete(key);
  }

  private merge(key: string, history: SeriesPoints | undefined, live: SeriesPoints | undefined): void {
    if (!this.shown.has(key)) return;
    this.typed(key, history);
    this.typed(key, live);
    const liveStart = live?.t[0] ?? Infinity;
    const older = history ? history.t.findIndex((t) => t >= liveStart) : -1;
    const cut = older === -1 ? (history?.t.length ?? 0) : older;
    this.store.clear(key);
    if (history && cut > 0) this.store.push(key, history.t.slice(0, cut), history.v.slice(0, cut));
    if (live && live.t.length > 0) this.store.push(key, live.t, live.v);
  }

  private flushStash(key: string): void {
    const stashed = this.stash.get(key);
    this.stash.delete(key);
    if (typeof stashed === 'object' && stashed.t.length > 0 && this.shown.has(key))
      this.store.push(key, stashed.t, stashed.v);
  }

  /** InfluxDB is away: say so, keep charting live, and try the history again by itself. */
  private historyFailed(message: string, series: Array<{ device: string; field: string }>): void {
    this.update({ historyError: message });
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      const still = series.filter((s) => this.shown.has(seriesKey(s.device, s.field)));
      if (still.length > 0) void this.fill(still);
    }, HISTORY_RETRY_MS);
  }

  private update(change: Partial<Snapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of this.listeners) listener(this.snapshot);
  }
}

/**
 * A device the host knows only by its status (no telemetry since it started) keeps the values the
 * page has for it from InfluxDB's catalog, so its history stays on the chart.
 */
function withStored(known: DeviceView | undefined, update: DeviceView): DeviceView {
  if (!known || update.lastSeen !== undefined || update.last.length > 0) return update;
  return { ...update, lastSeen: known.lastSeen, last: known.last };
}
