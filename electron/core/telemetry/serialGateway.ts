// The serial gateway: a board without Wi-Fi prints telemetry lines on USB; Makerdeck charts them and
// publishes them to the broker under makerdeck/<device>/telemetry, stamped with the time they
// arrived, so the stack stores them like any other device's. While the broker is away, lines wait
// in a bounded queue and go out, in order, when it is back.
import { DEVICE_ID_PATTERN, type MonitorLine } from '../../contract';
import { pointTime } from './ingest';
import { parseLineProtocol, withArrivalTime } from '../lineProtocol';
import type { TelemetryStore } from './telemetryStore';

/** About 10 MB of lines: a day of a 1 Hz board, or a few minutes of a very chatty one. */
const MAX_QUEUE = 100_000;
/** A board on USB is one device, or a few behind it: more is a board printing garbage ids. */
const MAX_DEVICES = 16;

export interface GatewayTarget {
  /** false when the broker is not connected: the gateway keeps the line. */
  publish(topic: string, payload: string): boolean;
  /** A device first seen on this port (its status goes to the broker from now on). */
  deviceSeen?(device: string): void;
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
      const why = this.take(t, text);
      if (why) this.store.reject(`serial ${this.port}`, why, text);
    }
    this.flush();
  }

  /** Charts and queues one telemetry line; returns why not when it cannot (nothing is published then). */
  private take(arrived: number, text: string): string | undefined {
    const parsed = parseLineProtocol(text);
    if (!parsed.ok) return parsed.reason;
    const device = parsed.point.tags.get('device');
    if (!device || !DEVICE_ID_PATTERN.test(device)) return 'no valid device tag';
    if (!this.devices.has(device) && this.devices.size >= MAX_DEVICES) {
      return `more than ${MAX_DEVICES} device ids from one serial port`;
    }
    const time = pointTime(parsed.point.timestamp, arrived);
    if (typeof time !== 'number') return time.reason;
    if (!this.devices.has(device)) {
      this.devices.add(device);
      this.target.deviceSeen?.(device);
    }
    const why = this.store.add(device, 'serial', parsed.point, time, arrived);
    this.store.setStatus(device, 'online', 'serial');
    const stamped = withArrivalTime(text, parsed.point, arrived);
    this.enqueue(`makerdeck/${device}/telemetry`, stamped);
    return why;
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
