import { describe, expect, it } from 'vitest';
import { MinMaxDecimator, gridFor, SLOTS, type Grid } from '../../renderer/src/pages/telemetry/chart/minMaxDecimator';
import { SeriesBuffer } from '../../renderer/src/pages/telemetry/chart/seriesBuffer';
import { seededRandom } from '../support/fuzz';

/** The test's vocabulary for a slot: a number, null (the line breaks there), undefined (no point, stepped over). */
type YValues = (number | null | undefined)[];

/** The decimator's output (NaN for no point, plus the gap marks) in that vocabulary. */
function semantic(d: MinMaxDecimator, series: number): YValues {
  const gaps = d.gaps[series]!;
  return Array.from(d.data[series + 1]!, (v, i) => (Number.isNaN(v) ? (gaps[i] ? null : undefined) : v));
}

/**
 * What the decimator must output, computed the obvious way from the retained points: bucket each
 * point by floor(t / colMs) − firstCol, emit first/min/max/last per column, and fill the rest by
 * the documented gap and edge rules.
 */
function reference(buffer: SeriesBuffer | undefined, grid: Grid, gapMs: number): { x: number[]; y: YValues } {
  const { colMs, firstCol, columns } = grid;
  const n = SLOTS * columns + 2;
  const x = new Array<number>(n);
  x[0] = firstCol * colMs;
  for (let c = 0; c < columns; c++)
    for (let k = 0; k < SLOTS; k++) x[1 + SLOTS * c + k] = (firstCol + c + (2 * k + 1) / (2 * SLOTS)) * colMs;
  x[n - 1] = (firstCol + columns) * colMs;
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < (buffer?.length ?? 0); i++) [ts[i], vs[i]] = [buffer!.time(i), buffer!.value(i)];
  const col = (t: number) => Math.floor(t / colMs) - firstCol;
  type Bucket = { first: number; min: number; max: number; last: number; firstT: number; lastT: number };
  const buckets: (Bucket | undefined)[] = new Array(columns);
  let prev = -1;
  let next = ts.length;
  for (let i = 0; i < ts.length; i++) {
    const c = col(ts[i]!);
    if (c < 0) prev = i;
    else if (c >= columns) {
      next = Math.min(next, i);
    } else if (!Number.isNaN(vs[i])) {
      const [t, v] = [ts[i]!, vs[i]!];
      const b = buckets[c];
      if (!b) buckets[c] = { first: v, min: v, max: v, last: v, firstT: t, lastT: t };
      else Object.assign(b, { last: v, lastT: t, min: Math.min(b.min, v), max: Math.max(b.max, v) });
    }
  }
  const lerp = (t0: number, v0: number, t1: number, v1: number, t: number) => {
    const v = t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
    return Number.isFinite(v) ? v : undefined;
  };
  // null only between two points more than gapMs apart; undefined for every other empty slot.
  const y: YValues = new Array(n).fill(undefined);
  const filled = buckets.flatMap((b, c) => (b ? [{ b, c }] : []));
  const prevPoint = prev >= 0 ? { t: ts[prev]!, v: vs[prev]! } : undefined;
  const nextPoint = next < ts.length ? { t: ts[next]!, v: vs[next]! } : undefined;
  // Drawn points in order, each with the y index range of empty slots before it.
  let tail = prevPoint;
  let run = 1;
  for (const { b, c } of filled) {
    const gap = tail !== undefined && b.firstT - tail.t > gapMs;
    if (run === 1) y[0] = gap ? null : tail && lerp(tail.t, tail.v, b.firstT, b.first, x[0]!);
    for (let i = run; i < 1 + SLOTS * c; i++) y[i] = gap ? null : undefined;
    y.splice(1 + SLOTS * c, SLOTS, b.first, b.min, b.max, b.last);
    run = 1 + SLOTS * (c + 1);
    tail = { t: b.lastT, v: b.last };
  }
  const last = tail;
  const gap = last !== undefined && nextPoint !== undefined && nextPoint.t - last.t > gapMs;
  const at = (t: number) =>
    gap ? null : last && nextPoint ? lerp(last.t, last.v, nextPoint.t, nextPoint.v, t) : undefined;
  if (run === 1) y[0] = at(x[0]!);
  y[n - 1] = at(x[n - 1]!);
  for (let i = run; i < n - 1; i++) y[i] = gap ? null : undefined;
  return { x, y };
}

function firstDifference(actual: ArrayLike<unknown>, expected: ArrayLike<unknown>): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length} ≠ ${expected.length}`;
  for (let i = 0; i < actual.length; i++)
    if (!Object.is(actual[i], expected[i])) return `[${i}] ${String(actual[i])} ≠ ${String(expected[i])}`;
  return undefined;
}

function expectMatchesReference(
  d: MinMaxDecimator,
  buffers: (SeriesBuffer | undefined)[],
  grid: Grid,
  gapMs: number,
  context: string,
) {
  const x = d.data[0];
  buffers.forEach((buffer, s) => {
    const want = reference(buffer, grid, gapMs);
    const diff = firstDifference(x, want.x) ?? firstDifference(semantic(d, s), want.y);
    expect(diff, `${context}, series ${s}`).toBeUndefined();
  });
}

/**
 * A random session: pushes (bursts, equal times, silences, NaN values, late points), slides and
 * pans by whole columns or not, zooms, resizes, jumps, clears, dropped and replaced buffers; after
 * every step the output must equal the reference, and every 10 steps a fresh decimator's.
 */
function randomSession(
  seed: number,
  sizes: { capacity: [number, number]; width: [number, number]; dt: number; silences: number },
): void {
  const rand = seededRandom(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const between = ([lo, hi]: [number, number]) => lo + int(hi - lo + 1);
  const seriesCount = 1 + int(3);
  const capacity = between(sizes.capacity);
  const gapMs = rand() < 0.5 ? Infinity : 1 + rand() * 40;
  const buffers: (SeriesBuffer | undefined)[] = Array.from({ length: seriesCount }, () =>
    rand() < 0.9 ? new SeriesBuffer(capacity, { float32: rand() < 0.3 }) : undefined,
  );
  const clocks = buffers.map(() => 1000 + rand() * 100);
  const d = new MinMaxDecimator(seriesCount, { gapMs });
  let width = between(sizes.width);
  let span = 20 + rand() * 400;
  let to = 1100 + rand() * 200;
  let grid = gridFor(to - span, to, width);
  d.update(buffers, grid);
  for (let step = 0; step < 40; step++) {
    const op = rand();
    if (op < 0.55) {
      for (const [s, buffer] of buffers.entries()) {
        if (!buffer || rand() < 0.3) continue;
        const ts: number[] = [];
        const vs: number[] = [];
        for (let i = int(capacity / 2 + 5); i > 0; i--) {
          const r = rand();
          clocks[s]! += r < 0.2 ? 0 : r < 1 - sizes.silences ? rand() * 3 * sizes.dt : rand() * 80;
          ts.push(rand() < 0.03 ? clocks[s]! - 50 : clocks[s]!);
          vs.push(rand() < 0.03 ? NaN : Math.round((rand() - 0.5) * 1000) / 10);
        }
        buffer.push(ts, vs);
      }
    } else if (op < 0.8) {
      to += (int(5) - 1) * grid.colMs * (rand() < 0.8 ? 1 : rand() * 3); // slide or pan
    } else if (op < 0.88) {
      span = Math.max(5, span * (0.3 + rand() * 2)); // zoom
    } else if (op < 0.93) {
      width = between(sizes.width); // resize
    } else if (op < 0.97) {
      to += (rand() - 0.5) * span * 4; // a jump farther than the window
    } else {
      // A cleared series may start over at earlier times; a source may also drop or replace a buffer.
      const s = int(seriesCount);
      const r = rand();
      if (r < 0.5) buffers[s]?.clear();
      else buffers[s] = r < 0.75 ? undefined : new SeriesBuffer(capacity);
      if (rand() < 0.5) clocks[s]! -= rand() * 200;
    }
    grid = gridFor(to - span, to, width, grid);
    d.update(buffers, grid);
    expectMatchesReference(d, buffers, grid, gapMs, `seed ${seed} step ${step}`);
    if (step % 10 === 9) {
      const fresh = new MinMaxDecimator(seriesCount, { gapMs });
      fresh.update(buffers, grid);
      fresh.data.forEach((array, i) =>
        expect(firstDifference(d.data[i]!, array), `seed ${seed} step ${step} fresh data[${i}]`).toBeUndefined(),
      );
      fresh.gaps.forEach((array, i) =>
        expect(firstDifference(d.gaps[i]!, array), `seed ${seed} step ${step} fresh gaps[${i}]`).toBeUndefined(),
      );
    }
  }
}

describe('gridFor', () => {
  it('puts width + 1 columns of (to − from) / width ms on multiples of the column width', () => {
    const grid = gridFor(1000, 2000, 100);
    expect(grid).toEqual({ colMs: 10, firstCol: 100, columns: 101 });
    const panned = gridFor(1000.1 + 5e-12, 2000.1, 100, grid);
    expect(panned.colMs).toBe(10); // the same width but for rounding: kept, so a pan is a shift
    expect(panned.firstCol).toBe(100);
    expect(gridFor(0, 500, 100, grid).colMs).toBe(5);
    expect(() => gridFor(5, 5, 100)).toThrow(RangeError);
  });
});

describe('MinMaxDecimator', () => {
  it('keeps first, min, max and last per column, marks gaps, steps over other empty columns', () => {
    const b = new SeriesBuffer(100);
    b.push([0, 1, 2, 3, 10, 11, 35], [5, 1, 9, 4, 7, 7, 3]);
    const d = new MinMaxDecimator(1, { gapMs: 5 });
    const grid: Grid = { colMs: 10, firstCol: 0, columns: 5 };
    d.update([b], grid);
    const x = d.data[0];
    const y = semantic(d, 0);
    expect(d.data[1]).toBeInstanceOf(Float64Array);
    expect(Number.isNaN(d.data[1]![0])).toBe(true); // no point: NaN
    expect(d.valueRange).toEqual([1, 9]);
    expect(x.length).toBe(SLOTS * 5 + 2);
    expect([...x.slice(0, 5)]).toEqual([0, 1.25, 3.75, 6.25, 8.75]);
    expect(x[x.length - 1]).toBe(50);
    expect(y).toStrictEqual([
      undefined, // nothing before the window
      5,
      1,
      9,
      4, // column 0: first 5, min 1, max 9, last 4
      7,
      7,
      7,
      7, // column 1
      null,
      null,
      null,
      null, // column 2: points 24 ms apart > gapMs → a gap
      3,
      3,
      3,
      3, // column 3
      undefined,
      undefined,
      undefined,
      undefined, // column 4: nothing after
      undefined,
    ]);
    expectMatchesReference(d, [b], grid, 5, 'fixed');
  });

  it('connects across empty columns when points are close enough, and runs the line to the edges', () => {
    const b = new SeriesBuffer(100);
    b.push([-10, 5, 25, 60], [0, 10, 30, 50]);
    const d = new MinMaxDecimator(1); // gapMs Infinity
    const grid: Grid = { colMs: 10, firstCol: 0, columns: 4 };
    d.update([b], grid);
    const y = semantic(d, 0);
    expect(y[0]).toBeCloseTo(6.667, 3); // on the line from (−10, 0) to (5, 10) at t = 0
    expect(y.slice(5, 9)).toStrictEqual([undefined, undefined, undefined, undefined]);
    expect(y[y.length - 1]).toBeCloseTo(30 + (20 * 15) / 35, 9); // on the line from (25, 30) to (60, 50) at t = 40
    expect(y.slice(13, 17)).toStrictEqual([undefined, undefined, undefined, undefined]);
    expectMatchesReference(d, [b], grid, Infinity, 'edges');
    // Exactly gapMs apart still connects; farther breaks.
    const atGap = new MinMaxDecimator(1, { gapMs: 20 });
    atGap.update([b], grid);
    expect(semantic(atGap, 0).slice(5, 9)).toStrictEqual([undefined, undefined, undefined, undefined]);
    const overGap = new MinMaxDecimator(1, { gapMs: 19.5 });
    overGap.update([b], grid);
    expect(semantic(overGap, 0).slice(5, 9)).toStrictEqual([null, null, null, null]);
  });

  it('outputs nothing to draw for a series without data, an empty window with nothing before it, and a gap across the window', () => {
    const d = new MinMaxDecimator(3, { gapMs: 100 });
    const after = new SeriesBuffer(10);
    after.push([1000], [1]);
    const around = new SeriesBuffer(10);
    around.push([-500, 1000], [1, 2]);
    const grid: Grid = { colMs: 1, firstCol: 0, columns: 8 };
    d.update([undefined, after, around], grid);
    expect(semantic(d, 0).every((v) => v === undefined)).toBe(true);
    expect(semantic(d, 1).every((v) => v === undefined)).toBe(true);
    expect(semantic(d, 2).every((v) => v === null)).toBe(true);
    expect(d.valueRange).toBeNull();
    expectMatchesReference(d, [undefined, after, around], grid, 100, 'empty');
  });

  it('slides with the clock by whole columns without rescanning', () => {
    const rand = seededRandom(7);
    const b = new SeriesBuffer(50_000);
    const span = 60_000;
    const width = 300;
    let now = 1_700_000_000_000;
    const batch = (count: number, dt: number) => {
      const ts: number[] = [];
      const vs: number[] = [];
      for (let i = 0; i < count; i++) {
        now += dt;
        ts.push(now);
        vs.push(Math.sin(now / 1000) + rand());
      }
      b.push(ts, vs);
    };
    batch(40_000, 1.5); // 60 s of history; the ring then starts evicting
    const d = new MinMaxDecimator(1);
    let grid = gridFor(now - span, now, width);
    d.update([b], grid);
    for (let frame = 0; frame < 200; frame++) {
      batch(11, 1.5);
      grid = gridFor(now - span, now, width, grid);
      const stats = d.update([b], grid);
      expect(stats.rescans).toBe(0);
      // New points plus the rebuilt columns at the ends, never the whole window.
      expect(stats.scanned).toBeLessThan(2_000);
      if (frame % 20 === 0) expectMatchesReference(d, [b], grid, Infinity, `frame ${frame}`);
    }
    expectMatchesReference(d, [b], grid, Infinity, 'last frame');
  });

  it('equals a full rescan after any sequence of pushes, evictions, slides, pans, zooms, resizes and clears', () => {
    for (let seed = 1; seed <= 400; seed++)
      randomSession(seed, { capacity: [5, 205], width: [3, 42], dt: 1, silences: 0.05 });
  });

  it('equals a full rescan with columns dense enough to be summarised from the block min/max', () => {
    for (let seed = 1001; seed <= 1040; seed++)
      randomSession(seed, { capacity: [2_000, 6_000], width: [2, 6], dt: 0.02, silences: 0.0005 });
  });

  it('takes evicted points out of a dense column without re-reading it', () => {
    // 3,000 points in one 10 ms column; the max is the first point and the min the last.
    const b = new SeriesBuffer(3_000);
    const n = 3_000;
    b.push(
      Array.from({ length: n }, (_, i) => i / 300),
      Array.from({ length: n }, (_, i) => (i === 0 ? 100 : i === n - 1 ? -100 : Math.sin(i))),
    );
    const d = new MinMaxDecimator(1);
    const grid: Grid = { colMs: 10, firstCol: 0, columns: 3 };
    d.update([b], grid);
    expect(semantic(d, 0).slice(1, 5)).toEqual([100, -100, 100, -100]);
    b.push([10.5, 10.6], [0, 0]); // evicts the first two points, the max among them
    const stats = d.update([b], grid);
    expect(stats.scanned).toBeLessThan(1_000);
    expect(semantic(d, 0)[2]).toBe(-100);
    expect(semantic(d, 0)[3]).toBe(Math.max(...Array.from({ length: n - 3 }, (_, i) => Math.sin(i + 2))));
    expectMatchesReference(d, [b], grid, Infinity, 'dense');
  });

  it('picks up a new buffer for a series and a cleared one', () => {
    const d = new MinMaxDecimator(1);
    const grid: Grid = { colMs: 1, firstCol: 0, columns: 4 };
    const a = new SeriesBuffer(10);
    a.push([0, 1], [1, 2]);
    d.update([a], grid);
    expect(semantic(d, 0).slice(1, 9)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    const b = new SeriesBuffer(10);
    b.push([2], [7]);
    expect(d.update([b], grid).rescans).toBe(1);
    expect(semantic(d, 0).slice(9, 13)).toEqual([7, 7, 7, 7]);
    b.clear();
    d.update([b], grid);
    expect(semantic(d, 0).every((v) => v === undefined)).toBe(true);
    // Cleared, then earlier times than before: the old buckets must not survive.
    b.push([3], [9]);
    d.update([b], grid);
    b.clear();
    b.push([0], [4]);
    d.update([b], grid);
    expectMatchesReference(d, [b], grid, Infinity, 'cleared and rewound');
    d.update([undefined], grid);
    expect(semantic(d, 0).every((v) => v === undefined)).toBe(true);
    expect(() => d.update([], grid)).toThrow(RangeError);
  });
});
