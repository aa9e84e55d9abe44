// Watching the serial ports for plug and unplug: while some page holds a lease (serial.watch, renewed
// by the page), the port list is polled about once a second and only changes are emitted. A page
// that goes away without a word simply stops renewing, and polling stops when its lease runs out.
import type { SerialPortView } from '../../contract';

export const PORT_POLL_MS = 1000;
/** A lease lasts this long; pages renew it well before (every LEASE_MS / 3). */
export const PORT_LEASE_MS = 30_000;

export interface PortWatchDeps {
  list(): Promise<SerialPortView[]>;
  /** Called with the whole new list whenever it differs from the last one. */
  changed(ports: SerialPortView[]): void;
  pollMs?: number;
  leaseMs?: number;
}

export class PortWatch {
  private timer?: NodeJS.Timeout;
  private leaseEnds = 0;
  private last?: string;
  private polling = false;

  constructor(private readonly deps: PortWatchDeps) {}

  /** Starts (or renews) watching; resolves with the current list. */
  async watch(): Promise<{ ports: SerialPortView[]; leaseMs: number }> {
    this.leaseEnds = Date.now() + (this.deps.leaseMs ?? PORT_LEASE_MS);
    const ports = await this.deps.list();
    this.last = JSON.stringify(ports);
    this.timer ??= setInterval(() => void this.poll(), this.deps.pollMs ?? PORT_POLL_MS);
    this.timer.unref?.(); // never what keeps a CLI process alive
    return { ports, leaseMs: this.deps.leaseMs ?? PORT_LEASE_MS };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (Date.now() > this.leaseEnds) return this.stop();
    if (this.polling) return; // a slow listing (udev) is never stacked up
    this.polling = true;
    try {
      const ports = await this.deps.list();
      const now = JSON.stringify(ports);
      if (now === this.last) return;
      this.last = now;
      this.deps.changed(ports);
    } catch {
      // A failed listing is tried again on the next tick; serial.list reports such errors.
    } finally {
      this.polling = false;
    }
  }
}
