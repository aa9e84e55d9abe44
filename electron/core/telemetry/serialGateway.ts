// The serial gateway: a board without Wi-Fi prints telemetry lines on USB; Makerdeck charts them and
// publishes them to the broker under makerdeck/<device>/telemetry, stamped with the time they
// arrived, so the stack stores them like any other device's. While the broker is away, lines wait
// in a bounded queue and go out, in order, when it is back.
import { DEVICE_ID_PATTERN, type MonitorLine } from '../../contract';
import { parseLineProtocol } from './lineProtocol';
import type { TelemetryStore } from './telemetryStore';

/** About 10 MB of lines: a day of a 1 Hz board, or a few minutes of a very chatty one. */
const MAX_QUEUE = 100_000;

export interface GatewayTarget {
  /** false when the broker is not connected: the gateway keeps the line. */
  publish(topic: string, payload: string): boolean;
}

export class SerialGateway {
  readonly devices = new Set<string>();
  private readonly queue: Array<{ topic: string; payload: string }> = [];
  published = 0;
  dropped = 0;

  constructor(
    readonly port: string,
    private readonly store: TelemetryStore,
    private readonly target: GatewayTarget,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Lines from the monitor session of this port. */
  receive(lines: MonitorLine[]): void {
    for (const { t, text } of lines) {
      if (!text.startsWith('telemetry,')) continue; // a log line, not telemetry
      const parsed = parseLineProtocol(text);
      const device = parsed.ok ? parsed.point.tags.device : undefined;
      if (!parsed.ok || !device || !DEVICE_ID_PATTERN.test(device)) {
        this.store.reject(`serial ${this.port}`, parsed.ok ? 'no valid device tag' : parsed.reason, text);
        continue;
      }
      this.devices.add(device);
      this.store.add(device, 'serial', parsed.point, t);
      this.store.setStatus(device, 'online', 'serial');
      const stamped = parsed.point.timestamp ? text : `${text} ${t}000000`;
      this.enqueue(`makerdeck/${device}/telemetry`, stamped);
    }
    this.flush();
  }

  /** Sends what waits, oldest first, while the broker takes it. */
  flush(): void {
    while (this.queue.length > 0 && this.target.publish(this.queue[0]!.topic, this.queue[0]!.payload)) {
      this.queue.shift();
      this.published++;
    }
  }

  /** The board went away: its devices are offline. */
  closed(): void {
    for (const device of this.devices) this.store.setStatus(device, 'offline', 'serial');
  }

  private enqueue(topic: string, payload: string): void {
    if (this.queue.length >= MAX_QUEUE) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push({ topic, payload });
  }
}
