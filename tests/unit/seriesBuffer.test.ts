import { describe, expect, it } from 'vitest';
import { SeriesBuffer } from '../../renderer/src/pages/telemetry/chart/seriesBuffer';
import { SeriesStore } from '../../renderer/src/pages/telemetry/chart/dataSource';

const times = (b: SeriesBuffer) => Array.from({ length: b.length }, (_, i) => b.time(i));
const values = (b: SeriesBuffer) => Array.from({ length: b.length }, (_, i) => b.value(i));
const seq = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('SeriesBuffer', () => {
  it('keeps the newest `capacity` points in order across wraparound', () => {
    const b = new SeriesBuffer(5);
    b.push([1, 2, 3], [10, 20, 30]);
    expect(times(b)).toEqual([1, 2, 3]);
    b.push(
      seq(4, 13),
      seq(4, 13).map((t) => t * 10),
    );
    expect(b.length).toBe(5);
    expect(times(b)).toEqual([8, 9, 10, 11, 12]);
    expect(values(b)).toEqual([80, 90, 100, 110, 120]);
    expect(b.written).toBe(12);
    expect(b.firstSeq).toBe(7);
    expect(b.lastTime).toBe(12);
    // Storage is the two fixed arrays, whatever was pushed.
    expect(b.times.length).toBe(5);
    expect(b.values.length).toBe(5);
  });

  it('finds time ranges by binary search over the wrapped ring', () => {
    const b = new SeriesBuffer(8);
    b.push(
      seq(0, 11).map((i) => i * 10),
      seq(0, 11),
    ); // retains 30..100, physically wrapped
    expect(times(b)).toEqual([30, 40, 50, 60, 70, 80, 90, 100]);
    expect(b.lowerBound(-1)).toBe(0);
    expect(b.lowerBound(30)).toBe(0);
    expect(b.lowerBound(31)).toBe(1);
    expect(b.lowerBound(100)).toBe(7);
    expect(b.lowerBound(101)).toBe(8);
    expect(b.upperBound(30)).toBe(1);
    expect(b.upperBound(99)).toBe(7);
    expect(b.upperBound(100)).toBe(8);
    expect(b.range(45, 75)).toEqual([2, 5]);
    expect(b.range(50, 70)).toEqual([2, 5]);
    expect(b.range(200, 300)).toEqual([8, 8]);
    expect(b.range(75, 45)).toEqual([5, 5]);
    const copy = b.copyRange(45, 90);
    expect([...copy.times]).toEqual([50, 60, 70, 80, 90]);
    expect([...copy.values]).toEqual([5, 6, 7, 8, 9]);
  });

  it('agrees with a linear scan for every wrap position', () => {
    for (let pushed = 1; pushed < 40; pushed++) {
      const b = new SeriesBuffer(7);
      // Runs of equal times, so the bounds have ties to get right.
      const ts = seq(0, pushed).map((i) => Math.floor(i / 3) * 5);
      b.push(ts, ts);
      const kept = times(b);
      for (let t = -5; t < 80; t += 2.5) {
        expect(b.lowerBound(t)).toBe(kept.filter((x) => x < t).length);
        expect(b.upperBound(t)).toBe(kept.filter((x) => x <= t).length);
      }
    }
  });

  it('gives the min and max of any index range, across wraparound, NaN values and clears', () => {
    let seed = 99;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
    for (const capacity of [1, 255, 256, 257, 1000, 3000]) {
      for (const float32 of [false, true]) {
        const b = new SeriesBuffer(capacity, { float32 });
        let t = 0;
        for (let round = 0; round < 12; round++) {
          if (rand() < 0.1) b.clear();
          const n = Math.floor(rand() * capacity * 0.7) + 1;
          b.push(
            Array.from({ length: n }, () => (t += rand() < 0.5 ? 0 : 1)),
            Array.from({ length: n }, () => (rand() < 0.02 ? NaN : (rand() - 0.5) * 1e6)),
          );
          const all = values(b);
          for (let k = 0; k < 20; k++) {
            const start = Math.floor(rand() * (b.length + 1));
            const end = start + Math.floor(rand() * (b.length - start + 1));
            const slice = all.slice(start, end).filter((v) => !Number.isNaN(v));
            expect(b.minMax(start, end), `capacity ${capacity} [${start}, ${end})`).toEqual([
              Math.min(Infinity, ...slice),
              Math.max(-Infinity, ...slice),
            ]);
          }
        }
      }
    }
  });

  it('drops points older than the newest one and non-finite times, keeps equal times', () => {
    const b = new SeriesBuffer(10);
    expect(b.push([5, 5, 4, 6, NaN, Infinity, 6, 3], [1, 2, 3, 4, 5, 6, 7, 8])).toBe(4);
    expect(times(b)).toEqual([5, 5, 6, 6]);
    expect(values(b)).toEqual([1, 2, 4, 7]);
    expect(b.dropped).toBe(4);
    expect(b.written).toBe(4);
    expect(() => b.push([1], [])).toThrow(RangeError);
  });

  it('clears without reallocating and marks the change', () => {
    const b = new SeriesBuffer(4);
    b.push([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]);
    const epoch = b.epoch;
    const storage = b.times;
    b.clear();
    expect(b.length).toBe(0);
    expect(b.epoch).not.toBe(epoch);
    expect(b.times).toBe(storage);
    expect(b.lastTime).toBe(-Infinity);
    // Times may start over after a clear.
    b.push([0, 1], [7, 8]);
    expect(times(b)).toEqual([0, 1]);
    expect(b.written).toBe(7);
  });

  it('stores float32 values when asked', () => {
    const b = new SeriesBuffer(3, { float32: true });
    b.push([1], [0.1]);
    expect(b.values).toBeInstanceOf(Float32Array);
    expect(b.value(0)).toBe(Math.fround(0.1));
    expect(() => new SeriesBuffer(0)).toThrow(RangeError);
  });
});

describe('SeriesStore', () => {
  it('creates a buffer per key on first push and tells subscribers about changes', () => {
    const store = new SeriesStore(100);
    let calls = 0;
    const unsubscribe = store.subscribe(() => calls++);
    expect(store.buffer('a')).toBeUndefined();
    store.push('a', [1, 2], [3, 4]);
    store.push('b', [1], [1]);
    store.push('a', [0], [0]); // dropped: nothing changed, no call
    expect(store.keys()).toEqual(['a', 'b']);
    expect(store.buffer('a')!.length).toBe(2);
    expect(calls).toBe(2);
    store.clear('a');
    expect(store.buffer('a')!.length).toBe(0);
    expect(calls).toBe(3);
    unsubscribe();
    store.push('a', [5], [5]);
    expect(calls).toBe(3);
  });
});
