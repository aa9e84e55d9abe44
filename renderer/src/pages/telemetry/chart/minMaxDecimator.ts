// Min/max decimation of SeriesBuffers to pixel columns, for uPlot. A million points a series is
// far more than the 1–4 thousand columns a chart has, and uPlot redrawing them all takes ~60 ms a
// frame; per column we keep first, min, max and last (M4), which draws the same pixels.
//
// The buckets are kept up to date incrementally, so a live frame costs the new points, not all of
// them:
// - new points at the right edge are bucketed on their own;
// - the window slides by whole columns: the grid sits on multiples of the column width (absolute
//   time), so a slide or a pan is a ring rotation plus the columns that come into view;
// - points the ring buffer evicted are taken out by rebuilding just the columns they were in
//   (a dense column from the buffer's block min/max, not point by point);
// - a full rescan happens only when the column width or count changes (zoom, resize, window).
import { BLOCK, type SeriesBuffer } from './seriesBuffer';

/** Columns of colMs milliseconds; column c (0 ≤ c < columns) covers [(firstCol + c) · colMs, (firstCol + c + 1) · colMs). */
export interface Grid {
  colMs: number;
  firstCol: number;
  columns: number;
}

/** Slots per column in the output, in this order: first, min, max, last. */
export const SLOTS = 4;

/** A column with more points than this is summarised from the buffer's block min/max instead of point by point. */
const DENSE = 4 * BLOCK;

/**
 * The grid covering [from, to] at `width` columns (one per device pixel), plus one so that a
 * window not on a column boundary is still covered. If `previous` has the same column count and
 * a width equal but for rounding, its width is kept, so a pan whose from/to sum up differently in
 * the last bit is still a shift and not a rescan.
 */
export function gridFor(from: number, to: number, width: number, previous?: Grid | null): Grid {
  const columns = Math.max(1, Math.round(width)) + 1;
  let colMs = (to - from) / (columns - 1);
  if (!(colMs > 0)) throw new RangeError(`empty time window [${from}, ${to}]`);
  if (previous && previous.columns === columns && Math.abs(previous.colMs - colMs) <= previous.colMs * 1e-9)
    colMs = previous.colMs;
  return { colMs, firstCol: Math.floor(from / colMs), columns };
}

export interface DecimatorOptions {
  /**
   * Empty columns between two points more than gapMs apart are marked in `gaps`: the line breaks
   * there (the device was silent). Other empty columns are stepped over: the line connects the
   * points on either side. Default Infinity: always connect.
   */
  gapMs?: number;
}

export interface UpdateStats {
  /** Series whose buckets were rebuilt from scratch. */
  rescans: number;
  /** Points read from the buffers. */
  scanned: number;
}

interface Track {
  buffer: SeriesBuffer | undefined;
  /** Buffer state at the last update: epoch, written (points with a lower sequence number are bucketed), firstSeq, oldest time. */
  epoch: number;
  seen: number;
  firstSeq: number;
  oldest: number;
  // Per column slot (ring order): first/last value and their times, min, max. firstT NaN = empty.
  first: Float64Array;
  last: Float64Array;
  min: Float64Array;
  max: Float64Array;
  firstT: Float64Array;
  lastT: Float64Array;
  y: Float64Array;
  gap: Uint8Array;
}

export class MinMaxDecimator {
  readonly gapMs: number;
  /**
   * [x, ...y] for uPlot.setData: typed arrays, NaN where a series has no point. Typed, not arrays
   * of number | null, because storing a fractional number into a mixed array allocates it on the
   * heap: 58,000 allocations a frame at 8 series × 1,800 px. The same arrays are refilled on each
   * update; new ones only when the column count changes.
   */
  data: [Float64Array, ...Float64Array[]] = [new Float64Array(0)];
  /** Per series, 1 for the slots where the line breaks (a gap longer than gapMs), else 0. */
  gaps: Uint8Array[] = [];
  private low = Infinity;
  private high = -Infinity;
  private grid: Grid | null = null;
  /** Column c lives in slot (ring + c) % columns. */
  private ring = 0;
  private readonly tracks: Track[] = [];
  private stats: UpdateStats = { rescans: 0, scanned: 0 };

  constructor(seriesCount: number, options: DecimatorOptions = {}) {
    this.gapMs = options.gapMs ?? Infinity;
    for (let i = 0; i < seriesCount; i++) {
      this.tracks.push({
        buffer: undefined,
        epoch: -1,
        seen: 0,
        firstSeq: 0,
        oldest: NaN,
        first: new Float64Array(0),
        last: new Float64Array(0),
        min: new Float64Array(0),
        max: new Float64Array(0),
        firstT: new Float64Array(0),
        lastT: new Float64Array(0),
        y: new Float64Array(0),
        gap: new Uint8Array(0),
      });
    }
  }

  get seriesCount(): number {
    return this.tracks.length;
  }

  get currentGrid(): Grid | null {
    return this.grid;
  }

  /** Smallest and largest value in the columns of every series at the last update; null when there is none. */
  get valueRange(): [min: number, max: number] | null {
    return this.low <= this.high ? [this.low, this.high] : null;
  }

  /** Brings the buckets and `data` up to date with the buffers (one per series, undefined = no data yet) on this grid. */
  update(buffers: readonly (SeriesBuffer | undefined)[], grid: Grid): UpdateStats {
    if (buffers.length !== this.tracks.length)
      throw new RangeError(`${buffers.length} buffers for ${this.tracks.length} series`);
    this.stats = { rescans: 0, scanned: 0 };
    const old = this.grid;
    const columns = grid.columns;
    let rescanAll = false;
    let shift = 0;
    if (!old || old.colMs !== grid.colMs || old.columns !== columns) {
      if (!old || old.columns !== columns) this.allocate(columns);
      rescanAll = true;
    } else {
      shift = grid.firstCol - old.firstCol;
      if (Math.abs(shift) >= columns) rescanAll = true;
    }
    this.grid = grid;
    if (rescanAll) {
      this.ring = 0;
      shift = 0;
    } else this.ring = (((this.ring + shift) % columns) + columns) % columns;

    for (const [i, track] of this.tracks.entries()) {
      const buffer = buffers[i];
      if (!buffer) {
        // No data: every column empty (after a rotation they stay empty, so nothing to do then).
        if (rescanAll || track.buffer) this.reset(track, 0, columns - 1);
        track.buffer = undefined;
        continue;
      }
      if (rescanAll || track.buffer !== buffer || track.epoch !== buffer.epoch) {
        this.rescan(track, buffer);
        continue;
      }
      // Retained points already bucketed are logical indices [0, consumed); only they are read when
      // columns are rebuilt, then the new ones are appended, so no point is counted twice.
      const consumed = Math.max(0, track.seen - buffer.firstSeq);
      if (shift > 0) this.rebuild(track, buffer, columns - shift, columns - 1, consumed);
      else if (shift < 0) this.rebuild(track, buffer, 0, -shift - 1, consumed);
      if (buffer.firstSeq > track.firstSeq && track.seen > track.firstSeq) {
        // Evicted bucketed points had times in [old oldest, current oldest]: rebuild those columns.
        const c0 = Math.max(0, this.columnOf(track.oldest));
        const c1 = Math.min(columns - 1, buffer.length > 0 ? this.columnOf(buffer.time(0)) : columns - 1);
        if (c0 <= c1) this.rebuild(track, buffer, c0, c1, consumed);
      }
      if (consumed < buffer.length) {
        const start = this.columnOf(buffer.time(consumed)) < 0 ? this.firstAtColumn(buffer, 0) : consumed;
        this.add(track, buffer, Math.max(start, consumed), buffer.length);
      }
      this.mark(track, buffer);
    }
    this.fillX();
    this.low = Infinity;
    this.high = -Infinity;
    for (const track of this.tracks) this.fillY(track);
    return this.stats;
  }

  private allocate(columns: number): void {
    const n = SLOTS * columns + 2;
    const x = new Float64Array(n);
    for (const track of this.tracks) {
      track.first = new Float64Array(columns);
      track.last = new Float64Array(columns);
      track.min = new Float64Array(columns);
      track.max = new Float64Array(columns);
      track.firstT = new Float64Array(columns).fill(NaN);
      track.lastT = new Float64Array(columns);
      track.y = new Float64Array(n).fill(NaN);
      track.gap = new Uint8Array(n);
    }
    this.data = [x, ...this.tracks.map((t) => t.y)];
    this.gaps = this.tracks.map((t) => t.gap);
  }

  private columnOf(t: number): number {
    const grid = this.grid!;
    return Math.floor(t / grid.colMs) - grid.firstCol;
  }

  /** First logical index in [lo, hi) whose column is ≥ c (else hi). Searching by column, not by time, keeps this exact with the bucketing's rounding. */
  private firstAtColumn(buffer: SeriesBuffer, c: number, lo = 0, hi = buffer.length): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.columnOf(buffer.time(mid)) < c) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private reset(track: Track, c0: number, c1: number): void {
    const columns = this.grid!.columns;
    for (let c = c0; c <= c1; c++) {
      const slot = this.ring + c;
      track.firstT[slot >= columns ? slot - columns : slot] = NaN;
    }
  }

  private rescan(track: Track, buffer: SeriesBuffer): void {
    this.stats.rescans++;
    this.rebuild(track, buffer, 0, this.grid!.columns - 1, buffer.length);
    this.mark(track, buffer);
  }

  /**
   * Empties columns c0..c1 and re-buckets the already-consumed points in them (logical indices
   * below `consumed`). A column holding more than DENSE points is summarised from the buffer's
   * block min/max, so taking a few evicted points out of a column that holds most of the buffer
   * (a 24 h window over the last minutes of fast data) does not re-read the whole column.
   */
  private rebuild(track: Track, buffer: SeriesBuffer, c0: number, c1: number, consumed: number): void {
    this.reset(track, c0, c1);
    const start = this.firstAtColumn(buffer, c0);
    const end = Math.min(consumed, this.firstAtColumn(buffer, c1 + 1, start));
    if (end - start <= DENSE) {
      if (start < end) this.add(track, buffer, start, end);
      return;
    }
    // Column by column, visiting only columns that have points.
    for (let lo = start; lo < end;) {
      const hi = Math.min(end, this.firstAtColumn(buffer, this.columnOf(buffer.time(lo)) + 1, lo, end));
      if (hi - lo <= DENSE) this.add(track, buffer, lo, hi);
      else this.summarize(track, buffer, lo, hi);
      lo = hi;
    }
  }

  /** Sets the bucket of the column holding logical indices [lo, hi) from first, last and the block min/max. */
  private summarize(track: Track, buffer: SeriesBuffer, lo: number, hi: number): void {
    let i = lo;
    let j = hi - 1;
    while (i <= j && Number.isNaN(buffer.value(i))) i++;
    while (j >= i && Number.isNaN(buffer.value(j))) j--;
    this.stats.scanned += Math.min(hi - lo, 2 * BLOCK + (hi - lo) / BLOCK);
    if (i > j) return;
    const c = this.columnOf(buffer.time(lo));
    const columns = this.grid!.columns;
    const s = this.ring + c >= columns ? this.ring + c - columns : this.ring + c;
    [track.min[s], track.max[s]] = buffer.minMax(i, j + 1);
    [track.first[s], track.firstT[s]] = [buffer.value(i), buffer.time(i)];
    [track.last[s], track.lastT[s]] = [buffer.value(j), buffer.time(j)];
  }

  /** Buckets logical indices [start, end) (time order); points outside the grid are skipped. */
  private add(track: Track, buffer: SeriesBuffer, start: number, end: number): void {
    const { colMs, firstCol, columns } = this.grid!;
    const { first, last, min, max, firstT, lastT } = track;
    const times = buffer.times;
    const values = buffer.values;
    const capacity = buffer.capacity;
    const ring = this.ring;
    let p = buffer.slot(start);
    let i = start;
    for (; i < end; i++, p = p + 1 === capacity ? 0 : p + 1) {
      const t = times[p]!;
      const v = values[p]!;
      const c = Math.floor(t / colMs) - firstCol;
      if (c < 0 || v !== v) continue; // NaN values are not drawn
      if (c >= columns) break;
      const s = ring + c >= columns ? ring + c - columns : ring + c;
      if (firstT[s] !== firstT[s]) {
        first[s] = last[s] = min[s] = max[s] = v;
        firstT[s] = lastT[s] = t;
      } else {
        last[s] = v;
        lastT[s] = t;
        if (v < min[s]!) min[s] = v;
        else if (v > max[s]!) max[s] = v;
      }
    }
    this.stats.scanned += i - start;
  }

  private mark(track: Track, buffer: SeriesBuffer): void {
    track.buffer = buffer;
    track.epoch = buffer.epoch;
    track.seen = buffer.written;
    track.firstSeq = buffer.firstSeq;
    track.oldest = buffer.length > 0 ? buffer.time(0) : NaN;
  }

  /** Slots at 1/8, 3/8, 5/8, 7/8 of each column (strictly increasing x); the two edge slots sit on the grid's ends. */
  private fillX(): void {
    const { colMs, firstCol, columns } = this.grid!;
    const x = this.data[0];
    x[0] = firstCol * colMs;
    for (let c = 0; c < columns; c++) {
      for (let k = 0; k < SLOTS; k++) x[1 + SLOTS * c + k] = (firstCol + c + (2 * k + 1) / (2 * SLOTS)) * colMs;
    }
    x[SLOTS * columns + 1] = (firstCol + columns) * colMs;
  }

  /**
   * y[0] and y[last] are the line's value where it crosses the grid's ends (interpolated with the
   * nearest point outside), so a zoomed-in line runs to the chart's edges instead of stopping at
   * the first point inside; NaN when there is no point outside, a gap when it is more than gapMs
   * away.
   */
  private fillY(track: Track): void {
    const { columns } = this.grid!;
    const { first, last, min, max, firstT, lastT, y, gap } = track;
    const buffer = track.buffer;
    const x = this.data[0];
    const end = SLOTS * columns + 1;
    const gapMs = this.gapMs;
    let prevT = NaN;
    let prevV = NaN;
    let nextT = NaN;
    let nextV = NaN;
    if (buffer && buffer.length > 0) {
      const before = this.firstAtColumn(buffer, 0) - 1;
      if (before >= 0) [prevT, prevV] = [buffer.time(before), buffer.value(before)];
      const after = this.firstAtColumn(buffer, columns);
      if (after < buffer.length) [nextT, nextV] = [buffer.time(after), buffer.value(after)];
    }
    gap.fill(0);
    let low = this.low;
    let high = this.high;
    let run = 1; // start of the current run of empty slots
    // The last point drawn so far (left of the current column).
    let tailT = prevT;
    let tailV = prevV;
    for (let c = 0; c < columns; c++) {
      let s = this.ring + c;
      if (s >= columns) s -= columns;
      const t = firstT[s]!;
      if (t !== t) continue;
      const isGap = t - tailT > gapMs; // false when there is no point before (NaN)
      if (run === 1) [y[0], gap[0]] = [isGap ? NaN : edge(prevT, prevV, t, first[s]!, x[0]!), isGap ? 1 : 0];
      const base = 1 + SLOTS * c;
      emptyRun(y, gap, run, base, isGap);
      y[base] = first[s]!;
      y[base + 1] = min[s]!;
      y[base + 2] = max[s]!;
      y[base + 3] = last[s]!;
      if (min[s]! < low) low = min[s]!;
      if (max[s]! > high) high = max[s]!;
      run = base + SLOTS;
      tailT = lastT[s]!;
      tailV = last[s]!;
    }
    const isGap = nextT - tailT > gapMs;
    if (run === 1) [y[0], gap[0]] = [isGap ? NaN : edge(prevT, prevV, nextT, nextV, x[0]!), isGap ? 1 : 0];
    [y[end], gap[end]] = [isGap ? NaN : edge(tailT, tailV, nextT, nextV, x[end]!), isGap ? 1 : 0];
    emptyRun(y, gap, run, end, isGap);
    this.low = low;
    this.high = high;
  }
}

/** Slots [from, to) have no point; in a gap, the line breaks across them. */
function emptyRun(y: Float64Array, gap: Uint8Array, from: number, to: number, isGap: boolean): void {
  if (from >= to) return;
  y.fill(NaN, from, to);
  if (isGap) gap.fill(1, from, to);
}

/** The line from (t0, v0) to (t1, v1) at time t; NaN when there is no such line. */
function edge(t0: number, v0: number, t1: number, v1: number, t: number): number {
  const v = t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
  return Number.isFinite(v) ? v : NaN;
}
