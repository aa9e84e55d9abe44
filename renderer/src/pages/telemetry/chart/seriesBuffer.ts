// One telemetry series in bounded memory: a fixed-capacity ring of (time ms since epoch, value)
// in typed arrays, allocated once, so a day of fast data costs capacity × 16 (or 12) bytes and
// nothing per point.

export type ValueArray = Float64Array | Float32Array;

export interface SeriesBufferOptions {
  /** Store values as float32: 12 instead of 16 bytes a point, ~7 significant digits. */
  float32?: boolean;
}

/**
 * Points per block of the min/max index. minMax() reads at most 2 · BLOCK points plus one entry per
 * block, so taking evicted points out of a chart column that holds 250,000 points costs about
 * 1,500 reads instead of 250,000; the index costs 16 bytes per BLOCK points.
 */
export const BLOCK = 256;

/**
 * Points are kept in time order, oldest first; logical index 0 is the oldest retained point.
 *
 * Out-of-order points: a point older than the newest one is dropped (counted in `dropped`), equal
 * times are kept. Inserting it would mean moving up to `capacity` points and would change points
 * the chart has already bucketed; one device's batches arrive in order, so a late point is a
 * replay or a clock step, not data worth that cost.
 */
export class SeriesBuffer {
  readonly capacity: number;
  /** Physical storage; logical index i lives at slot(i). */
  readonly times: Float64Array;
  readonly values: ValueArray;
  private head = 0;
  private count = 0;
  private total = 0;
  private generation = 0;
  // Min/max of the non-NaN values of each block of BLOCK consecutive sequence numbers; block j is
  // entry j % blocks. Only blocks wholly retained are read, so entries mixing evicted or cleared
  // points are never used.
  private readonly blockMin: Float64Array;
  private readonly blockMax: Float64Array;
  private readonly blocks: number;
  /** Points refused because they were older than the newest point (or had no finite time). */
  dropped = 0;

  constructor(capacity: number, options: SeriesBufferOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.times = new Float64Array(capacity);
    this.values = options.float32 ? new Float32Array(capacity) : new Float64Array(capacity);
    this.blocks = Math.ceil(capacity / BLOCK) + 1;
    this.blockMin = new Float64Array(this.blocks);
    this.blockMax = new Float64Array(this.blocks);
  }

  get length(): number {
    return this.count;
  }

  /** Points accepted since creation, never decreasing: the sequence number the next point will get. */
  get written(): number {
    return this.total;
  }

  /** Sequence number of the oldest retained point: points before it were evicted (or cleared). */
  get firstSeq(): number {
    return this.total - this.count;
  }

  /** Changes when points already read may have changed other than by eviction (clear). */
  get epoch(): number {
    return this.generation;
  }

  /** Time of the newest point, or -Infinity when empty. */
  get lastTime(): number {
    return this.count === 0 ? -Infinity : this.time(this.count - 1);
  }

  /** Appends a batch (same length arrays, time order); returns how many points were kept. */
  push(times: ArrayLike<number>, values: ArrayLike<number>): number {
    if (times.length !== values.length) throw new RangeError(`${times.length} times but ${values.length} values`);
    const { capacity, blockMin, blockMax } = this;
    let last = this.lastTime;
    let seq = this.total;
    let block = Math.floor(seq / BLOCK) % this.blocks;
    let inBlock = seq % BLOCK;
    for (let i = 0; i < times.length; i++) {
      const t = times[i]!;
      if (!(t >= last) || !Number.isFinite(t)) {
        this.dropped++;
        continue;
      }
      let slot = this.head + this.count;
      if (slot >= capacity) slot -= capacity;
      this.times[slot] = t;
      this.values[slot] = values[i]!;
      const v = this.values[slot]!; // as stored (float32 rounds)
      if (this.count < capacity) this.count++;
      else if (++this.head === capacity) this.head = 0;
      last = t;
      if (inBlock === 0) {
        blockMin[block] = Infinity;
        blockMax[block] = -Infinity;
      }
      if (v < blockMin[block]!) blockMin[block] = v;
      if (v > blockMax[block]!) blockMax[block] = v;
      seq++;
      if (++inBlock === BLOCK) {
        inBlock = 0;
        if (++block === this.blocks) block = 0;
      }
    }
    const kept = seq - this.total;
    this.total = seq;
    return kept;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.generation++;
  }

  /** Physical slot of logical index i (0 ≤ i < length). */
  slot(i: number): number {
    const slot = this.head + i;
    return slot >= this.capacity ? slot - this.capacity : slot;
  }

  time(i: number): number {
    return this.times[this.slot(i)]!;
  }

  value(i: number): number {
    return this.values[this.slot(i)]!;
  }

  /** [min, max] of the non-NaN values at logical indices [start, end); [Infinity, −Infinity] when none. */
  minMax(start: number, end: number): [min: number, max: number] {
    const base = this.firstSeq;
    const firstBlock = Math.ceil((base + start) / BLOCK);
    const endBlock = Math.floor((base + end) / BLOCK);
    if (firstBlock >= endBlock) return this.scanMinMax(start, end, Infinity, -Infinity);
    let [min, max] = this.scanMinMax(start, firstBlock * BLOCK - base, Infinity, -Infinity);
    for (let j = firstBlock; j < endBlock; j++) {
      const entry = j % this.blocks;
      if (this.blockMin[entry]! < min) min = this.blockMin[entry]!;
      if (this.blockMax[entry]! > max) max = this.blockMax[entry]!;
    }
    return this.scanMinMax(endBlock * BLOCK - base, end, min, max);
  }

  private scanMinMax(start: number, end: number, min: number, max: number): [number, number] {
    for (let i = start; i < end; i++) {
      const v = this.value(i);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return [min, max];
  }

  /** First logical index whose time is ≥ t (length when none): binary search over the ring. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First logical index whose time is > t (length when none). */
  upperBound(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time(mid) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Logical index range [start, end) of the points with from ≤ time ≤ to. */
  range(from: number, to: number): [start: number, end: number] {
    const start = this.lowerBound(from);
    return [start, Math.max(start, this.upperBound(to))];
  }

  /** Copies the points with from ≤ time ≤ to out of the ring (for export; allocates). */
  copyRange(from: number, to: number): { times: Float64Array; values: Float64Array } {
    const [start, end] = this.range(from, to);
    const times = new Float64Array(end - start);
    const values = new Float64Array(end - start);
    for (let i = start; i < end; i++) {
      const slot = this.slot(i);
      times[i - start] = this.times[slot]!;
      values[i - start] = this.values[slot]!;
    }
    return { times, values };
  }
}
