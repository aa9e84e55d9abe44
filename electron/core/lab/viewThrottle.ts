// A station's view goes out whole, at most once per `everyMs`: a change right after one waits for
// the rest of the window, and the latest state always goes out last.

export class ViewThrottle {
  private last = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly send: () => void,
    private readonly everyMs = 100,
  ) {}

  changed(): void {
    if (this.timer) return;
    const wait = this.last + this.everyMs - Date.now();
    if (wait <= 0) return this.flush();
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref?.();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.last = Date.now();
    this.send();
  }
}
