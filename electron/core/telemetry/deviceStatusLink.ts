// A board on the serial gateway has no MQTT connection of its own, so no last will: the gateway
// gives each of its devices one, as the firmware does on Wi-Fi boards. The link publishes a
// retained `online` on every connect and carries a retained last will `offline`, so the broker
// marks the device offline when Makerdeck dies or its connection breaks, and says `offline` when
// the board goes away.
import mqtt, { type MqttClient } from 'mqtt';

export interface LinkOptions {
  url: string;
  username?: string;
  password?: string;
  protocolVersion: 4 | 5;
}

const RECONNECT_MS = 1000;
const CLOSE_TIMEOUT_MS = 3000;

export class DeviceStatusLink {
  private readonly client: MqttClient;
  private readonly topic: string;

  /** `ownLogin`: the link logs in as the device itself, and the gateway publishes the device's telemetry on it. */
  constructor(
    options: LinkOptions,
    device: string,
    readonly ownLogin = false,
  ) {
    this.topic = `makerdeck/${device}/status`;
    this.client = mqtt.connect(options.url, {
      username: options.username || undefined,
      password: options.password || undefined,
      protocolVersion: options.protocolVersion,
      clientId: `makerdeck-gw-${device}-${Math.random().toString(16).slice(2, 8)}`.slice(0, 64),
      clean: true,
      reconnectPeriod: RECONNECT_MS,
      connectTimeout: 10_000,
      will: { topic: this.topic, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client.on('connect', () => this.client.publish(this.topic, 'online', { qos: 1, retain: true }));
    this.client.on('error', () => undefined); // the telemetry connection reports the broker's state
  }

  /** Publishes when connected; returns false (the caller keeps the message) otherwise. */
  publish(topic: string, payload: string): boolean {
    if (!this.client.connected) return false;
    this.client.publish(topic, payload, { qos: 1 });
    return true;
  }

  /**
   * The board went away: retained `offline`, then a clean disconnect. A link between reconnects
   * gets a few seconds to come back and say it (else the broker keeps the last `online`).
   */
  async close(): Promise<void> {
    const deadline = Date.now() + CLOSE_TIMEOUT_MS;
    const within = <T>(work: Promise<T>) =>
      Promise.race([work, new Promise<void>((resolve) => setTimeout(resolve, deadline - Date.now()).unref())]);
    if (!this.client.connected) await within(new Promise((resolve) => this.client.once('connect', resolve)));
    if (this.client.connected)
      await within(this.client.publishAsync(this.topic, 'offline', { qos: 1, retain: true })).catch(() => undefined);
    await this.client.endAsync(true);
  }
}
