// Text in, whole lines out in batches: a chatty log must not become one event per line.
export class LineBatcher {
  private partial = '';
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onLines: (lines: string[]) => void,
    private readonly intervalMs: number,
  ) {}

  push(text: string): void {
    const parts = (this.partial + text).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    this.pending.push(...parts);
    if (this.pending.length > 0) this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  /** Sends what is pending; at the end, the last line even without its newline. */
  flush(end = false): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (end && this.partial) {
      this.pending.push(this.partial);
      this.partial = '';
    }
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.onLines(lines);
  }
}
