// At most `size` boards flashed at once: the others wait their turn, first come first served.

export class FlashSlots {
  private used = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private size: number) {}

  /** A new size; a larger one lets waiters in at once. */
  resize(size: number): void {
    this.size = size;
    this.next();
  }

  /** Resolves with the release function once a slot is free; rejects when `signal` aborts first. */
  take(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        this.used++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.used--;
          this.next();
        });
      };
      const onAbort = () => {
        const index = this.queue.indexOf(grant);
        if (index >= 0) this.queue.splice(index, 1);
        reject(signal.reason);
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(grant);
      this.next();
    });
  }

  private next(): void {
    while (this.used < this.size && this.queue.length > 0) this.queue.shift()!();
  }
}
