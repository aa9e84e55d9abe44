// A fixed-capacity ring of lines: the monitor keeps the newest `capacity` lines in bounded memory.
import type { MonitorLine } from '../../../../electron/contract/monitor';

export class LineBuffer {
  private readonly items: MonitorLine[];
  private start = 0;
  length = 0;
  /** Bumped on every change, so React can tell the buffer changed without copying it. */
  version = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<MonitorLine>(capacity);
  }

  push(lines: MonitorLine[]): void {
    for (const line of lines) {
      this.items[(this.start + this.length) % this.capacity] = line;
      if (this.length < this.capacity) this.length++;
      else this.start = (this.start + 1) % this.capacity;
    }
    this.version++;
  }

  at(index: number): MonitorLine | undefined {
    return index < 0 || index >= this.length ? undefined : this.items[(this.start + index) % this.capacity];
  }

  clear(): void {
    this.start = 0;
    this.length = 0;
    this.version++;
  }

  toText(): string {
    const out: string[] = [];
    for (let i = 0; i < this.length; i++) {
      const line = this.at(i)!;
      out.push(`${new Date(line.t).toISOString()} ${line.text}`);
    }
    return out.join('\n') + '\n';
  }
}

/** Per-series ring of (time, value) points for the plotter. */
export class SeriesBuffer {
  readonly times: Float64Array;
  readonly values: Float64Array;
  private start = 0;
  length = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  push(t: number, value: number): void {
    const index = (this.start + this.length) % this.capacity;
    this.times[index] = t;
    this.values[index] = value;
    if (this.length < this.capacity) this.length++;
    else this.start = (this.start + 1) % this.capacity;
  }

  time(i: number): number {
    return this.times[(this.start + i) % this.capacity]!;
  }

  value(i: number): number {
    return this.values[(this.start + i) % this.capacity]!;
  }
}
