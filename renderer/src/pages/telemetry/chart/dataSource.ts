// What the chart reads: one SeriesBuffer per series key, and a change signal so it redraws only
// when data arrived (at most once a frame, whatever the batch rate).
import { SeriesBuffer, type SeriesBufferOptions } from './seriesBuffer';

export interface TelemetryDataSource {
  /** The buffer of a series, undefined until it has one. */
  buffer(key: string): SeriesBuffer | undefined;
  /** `listener` is called after data changed; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** A ready TelemetryDataSource: a buffer per key, created on its first push. */
export class SeriesStore implements TelemetryDataSource {
  private readonly buffers = new Map<string, SeriesBuffer>();
  private readonly listeners = new Set<() => void>();

  /** `capacity` points per series (memory ≈ capacity × 16 bytes, × 12 with float32). */
  constructor(
    readonly capacity: number,
    private readonly options: SeriesBufferOptions = {},
  ) {}

  buffer(key: string): SeriesBuffer | undefined {
    return this.buffers.get(key);
  }

  keys(): string[] {
    return [...this.buffers.keys()];
  }

  /** Appends a time-ordered batch to a series; returns the points kept (older than the newest are dropped). */
  push(key: string, times: ArrayLike<number>, values: ArrayLike<number>): number {
    let buffer = this.buffers.get(key);
    if (!buffer) this.buffers.set(key, (buffer = new SeriesBuffer(this.capacity, this.options)));
    const kept = buffer.push(times, values);
    if (kept > 0) this.notify();
    return kept;
  }

  /** Drops one series' points, or every series' points. The buffers stay allocated for reuse. */
  clear(key?: string): void {
    if (key === undefined) for (const buffer of this.buffers.values()) buffer.clear();
    else this.buffers.get(key)?.clear();
    this.notify();
  }

  /** Frees a series' buffer. */
  delete(key: string): void {
    if (this.buffers.delete(key)) this.notify();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
