// A board without Wi-Fi (the AVR boards) reaches the broker through this gateway on its USB port:
// its telemetry lines for its own id go to makerdeck/<id>/telemetry, published with the device's
// own broker login, so the per-device permission is what lets them through. It marks the board
// online/offline on its status topic (retained, with a last will) once it printed its own id, as
// the firmware does on Wi-Fi.
import mqtt, { type MqttClient } from 'mqtt';
import type { MonitorLine } from '../../contract';
import { parseLineProtocol, withArrivalTime } from '../lineProtocol';
import { telemetryTopic, type BrokerLogin } from './telemetryWatch';

/** Lines kept while the broker is away: a few minutes of a 1 Hz board. */
const MAX_QUEUE = 300;
const RECONNECT_MS = 1000;
const CLOSE_MS = 3000;

export class BoardGateway {
  private readonly client: MqttClient;
  private readonly queue: string[] = [];
  private readonly statusTopic: string;
  published = 0;
  /** Whether the board printed its own id yet: only then is it announced online. */
  private heard = false;
  private announced = false;
  private refused = false;
  /** Lines under another id: never forwarded (they would be refused, and count as a mix-up). */
  foreign = 0;

  constructor(
    readonly deviceId: string,
    readonly sessionId: string,
    login: BrokerLogin,
    /** The broker refused the device's login (revoked, rotated): said once per refusal spell. */
    private readonly onRefused: (why: string) => void = () => undefined,
  ) {
    this.statusTopic = `makerdeck/${deviceId}/status`;
    this.client = mqtt.connect(login.url, {
      username: login.username || undefined,
      password: login.password || undefined,
      protocolVersion: 4,
      clientId: `makerdeck-lab-gw-${deviceId}-${Math.random().toString(16).slice(2, 8)}`.slice(0, 64),
      clean: true,
      reconnectPeriod: RECONNECT_MS,
      connectTimeout: 5000,
      will: { topic: this.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client.on('connect', () => {
      this.announced = false; // a new session: say it again
      this.refused = false;
      this.flush();
    });
    // The watch's connection says why the broker is away; a refused login is this gateway's own news.
    this.client.on('error', (error: Error & { code?: string | number }) => {
      if ((error.code === 4 || error.code === 5) && !this.refused) {
        this.refused = true;
        this.onRefused(`the broker refused the login ${login.username ?? '(none)'} (${error.message})`);
      }
    });
  }

  /** The board's serial lines: its telemetry under its own id is forwarded, stamped with its arrival. */
  receive(lines: MonitorLine[]): void {
    for (const { t, text } of lines) {
      if (!text.startsWith('telemetry,')) continue;
      const parsed = parseLineProtocol(text);
      if (!parsed.ok) continue;
      if (parsed.point.tags.get('device') !== this.deviceId) {
        this.foreign++;
        continue;
      }
      this.heard = true;
      if (this.queue.length >= MAX_QUEUE) this.queue.shift();
      this.queue.push(withArrivalTime(text, parsed.point, t));
    }
    this.flush();
  }

  private flush(): void {
    if (this.client.connected && this.heard && !this.announced) {
      this.client.publish(this.statusTopic, 'online', { qos: 1, retain: true });
      this.announced = true;
    }
    while (this.client.connected && this.queue.length > 0) {
      this.client.publish(telemetryTopic(this.deviceId), this.queue.shift()!, { qos: 0 });
      this.published++;
    }
  }

  /** Retained `offline` (when connected within a few seconds), then the connection ends. */
  async close(): Promise<void> {
    const within = <T>(work: Promise<T>) =>
      Promise.race([work, new Promise<void>((resolve) => setTimeout(resolve, CLOSE_MS).unref())]);
    if (this.client.connected && this.announced)
      await within(this.client.publishAsync(this.statusTopic, 'offline', { qos: 1, retain: true })).catch(
        () => undefined,
      );
    await this.client.endAsync(true).catch(() => undefined);
  }
}
