// One series' recent points in a fixed-size ring: memory is capacity × 16 bytes whatever the rate.

export class SeriesRing {
  private readonly t: Float64Array;
  private readonly v: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Appends a point; the oldest one goes when full. Points older than the newest are dropped. */
  push(time: number, value: number): boolean {
    if (this.count > 0 && time < this.t[this.index(this.count - 1)]!) return false;
    const at = this.index(this.count);
    this.t[at] = time;
    this.v[at] = value;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
    return true;
  }

  /** The points with from ≤ t ≤ to, in time order. */
  range(from: number, to: number): { t: number[]; v: number[] } {
    const t: number[] = [];
    const v: number[] = [];
    for (let i = this.firstAtOrAfter(from); i < this.count; i++) {
      const at = this.index(i);
      if (this.t[at]! > to) break;
      t.push(this.t[at]!);
      v.push(this.v[at]!);
    }
    return { t, v };
  }

  private firstAtOrAfter(time: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.t[this.index(mid)]! < time) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private index(i: number): number {
    return (this.start + i) % this.capacity;
  }
}
