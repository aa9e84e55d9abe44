// The broker connection for telemetry: MQTT 3.1.1 unless asked for 5, a connect timeout (an MQTT 5
// CONNECT to an old RabbitMQ is closed without a word, so nothing else would ever settle), automatic
// reconnects with backoff (1 s doubling to 30 s, by our own timer), and TCP_NODELAY (Nagle alone
// added ~14 ms to every message).
import mqtt, { type MqttClient } from 'mqtt';
import type { BrokerState } from '../../contract';
import { STATUS_TOPIC, TELEMETRY_TOPIC } from './ingest';

export interface MqttSourceOptions {
  url: string;
  username?: string;
  password?: string;
  protocolVersion: 4 | 5;
  connectTimeoutMs?: number;
  onMessage(topic: string, payload: Buffer): void;
  /** `loginRefused`: the broker refused the user name or password (retries go on with the same backoff). */
  onState(state: BrokerState, message?: string, loginRefused?: boolean): void;
}

export const FIRST_RETRY_MS = 1000;
/** Devices whose own status topic is subscribed (the store's device limit). */
const MAX_WATCHED = 1024;
export const MAX_RETRY_MS = 30_000;

/** The wait before reconnect attempt `attempt` (1, 2, …): 1 s doubling to 30 s,
 * so a restarting broker is not hammered.
 */
export function retryDelay(attempt: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.min(attempt - 1, 16), MAX_RETRY_MS);
}

export class MqttSource {
  private client?: MqttClient;
  private attempts = 0;
  private retryTimer?: NodeJS.Timeout;
  private lastError?: string;
  private loginRefused = false;
  private readonly watched = new Set<string>();

  constructor(private readonly options: MqttSourceOptions) {}

  /**
   * Subscribes to these devices' own status topics as well. RabbitMQ 3.10's MQTT plugin hands a
   * retained message only to a subscription naming its exact topic, never to makerdeck/+/status
   * (Mosquitto does both), so this is how a device's retained online/offline reaches us there.
   * Kept across reconnects: a new session asks again and gets the current retained state.
   */
  watchStatus(devices: string[]): void {
    const fresh = devices.filter((device) => !this.watched.has(device)).slice(0, MAX_WATCHED - this.watched.size);
    for (const device of fresh) this.watched.add(device);
    if (fresh.length > 0 && this.client?.connected) this.client.subscribe(fresh.map(statusTopic), { qos: 0 });
  }

  start(): void {
    const { url, username, password, protocolVersion } = this.options;
    const timeout = this.options.connectTimeoutMs ?? 10_000;
    this.options.onState('connecting');
    // reconnectPeriod 0: mqtt.js retries on a fixed interval (and not at all after a refused login);
    // the backoff here is ours. The same client reconnects, so unacknowledged QoS 1 messages are resent.
    const client = mqtt.connect(url, {
      username: username || undefined,
      password: password || undefined,
      protocolVersion,
      connectTimeout: timeout,
      reconnectPeriod: 0,
      clientId: `makerdeck-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
    });
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('message', (topic, payload) => this.options.onMessage(topic, payload));
    client.on('error', (error) => {
      this.lastError = explainMqttError(error, protocolVersion, timeout);
      this.loginRefused = isLoginRefusal(error);
    });
    client.on('close', () => this.onClose());
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Publishes when connected; returns false (the caller keeps the message) otherwise. */
  publish(topic: string, payload: string): boolean {
    if (!this.client?.connected) return false;
    this.client.publish(topic, payload, { qos: 1 });
    return true;
  }

  /** Whether this device's status topic is subscribed. */
  watches(device: string): boolean {
    return this.watched.has(device);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await client?.endAsync(true);
    this.options.onState('disconnected');
  }

  private onConnect(): void {
    const client = this.client!;
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.attempts = 0;
    this.lastError = undefined;
    this.loginRefused = false;
    const own = [...this.watched].map(statusTopic);
    client.subscribe([TELEMETRY_TOPIC, STATUS_TOPIC, ...own], { qos: 0 }, (error) => {
      if (error)
        this.options.onState(
          'connected',
          `The broker refused the subscription (${error.message}): check this user may read makerdeck/#`,
        );
    });
    this.options.onState('connected');
  }

  private onClose(): void {
    if (!this.client || this.retryTimer) return; // stopped on purpose, or a retry is already set
    const delay = retryDelay(++this.attempts);
    const reason = this.lastError ?? 'The broker closed the connection';
    const message = `${reason} — retrying in ${Math.round(delay / 1000)} s`;
    this.options.onState('reconnecting', message, this.loginRefused || undefined);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.lastError = undefined;
      this.client?.connect();
    }, delay);
  }
}

function statusTopic(device: string): string {
  return `makerdeck/${device}/status`;
}

/** MQTT 3.1.1 CONNACK 4 and 5, MQTT 5 reason codes 134 and 135. */
function isLoginRefusal(error: Error & { code?: string | number }): boolean {
  return error.code === 4 || error.code === 5 || error.code === 134 || error.code === 135;
}

const CHECK_LOGIN = 'check the MQTT user and password with makerdeck env show / makerdeck env attach';

function explainMqttError(
  error: Error & { code?: string | number },
  protocolVersion: 4 | 5,
  timeoutMs: number,
): string {
  const code = error.code;
  if (error.message === 'connack timeout') {
    const hint =
      protocolVersion === 5
        ? ': a broker that only speaks MQTT 3.1.1 (RabbitMQ before 3.13) does this to MQTT 5 — choose 3.1.1'
        : ': check the broker URL and port';
    return `The broker did not answer the connect within ${Math.round(timeoutMs / 1000)} s${hint}`;
  }
  if (code === 'ECONNREFUSED')
    return 'Nothing answers at the broker address: start the stack (makerdeck stack up) or check the broker URL';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'The broker host name is unknown: check the broker URL';
  if (code === 4 || code === 134) return `The broker refused the login (bad user name or password): ${CHECK_LOGIN}`;
  if (code === 5 || code === 135) return `The broker refused the login (not authorized): ${CHECK_LOGIN}`;
  if (code === 1 || code === 132)
    return `The broker does not speak MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: choose the other version`;
  return `The broker connection failed (${error.message.split('\n')[0]})`;
}
