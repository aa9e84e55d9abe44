// The broker connection for telemetry: MQTT 3.1.1 unless asked for 5, a connect timeout (an MQTT 5
// CONNECT to an old RabbitMQ is closed without a word, so nothing else would ever settle), automatic
// reconnects with backoff, and TCP_NODELAY (Nagle alone added ~14 ms to every message).
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
  onState(state: BrokerState, message?: string): void;
}

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export class MqttSource {
  private client?: MqttClient;
  private retryMs = FIRST_RETRY_MS;
  private lastError?: string;

  constructor(private readonly options: MqttSourceOptions) {}

  start(): void {
    const { url, username, password, protocolVersion } = this.options;
    const timeout = this.options.connectTimeoutMs ?? 10_000;
    this.options.onState('connecting');
    const client = mqtt.connect(url, {
      username: username || undefined,
      password: password || undefined,
      protocolVersion,
      connectTimeout: timeout,
      reconnectPeriod: this.retryMs,
      clientId: `makerdeck-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
    });
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('message', (topic, payload) => this.options.onMessage(topic, payload));
    client.on('error', (error) => (this.lastError = explainMqttError(error, protocolVersion, timeout)));
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

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.endAsync(true);
    this.options.onState('disconnected');
  }

  private onConnect(): void {
    const client = this.client!;
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.retryMs = FIRST_RETRY_MS;
    client.options.reconnectPeriod = this.retryMs;
    this.lastError = undefined;
    client.subscribe([TELEMETRY_TOPIC, STATUS_TOPIC], { qos: 0 }, (error) => {
      if (error) this.options.onState('connected', `The broker refused the subscription (${error.message}): check this user may read makerdeck/#`);
    });
    this.options.onState('connected');
  }

  private onClose(): void {
    if (!this.client) return; // stopped on purpose
    this.options.onState('reconnecting', `${this.lastError ?? 'The broker closed the connection'} — retrying in ${Math.round(this.retryMs / 1000)} s`);
    // Back off: 1 s doubling to 30 s, so a broker that is restarting is not hammered.
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.client.options.reconnectPeriod = this.retryMs;
  }
}

function explainMqttError(error: Error & { code?: string | number }, protocolVersion: 4 | 5, timeoutMs: number): string {
  const code = error.code;
  if (error.message === 'connack timeout') {
    const hint = protocolVersion === 5 ? ': a broker that only speaks MQTT 3.1.1 (RabbitMQ before 3.13) does this to MQTT 5 — choose 3.1.1' : ': check the broker URL and port';
    return `The broker did not answer the connect within ${Math.round(timeoutMs / 1000)} s${hint}`;
  }
  if (code === 'ECONNREFUSED') return 'Nothing answers at the broker address: start the stack (makerdeck stack up) or check the broker URL';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'The broker host name is unknown: check the broker URL';
  if (code === 4 || code === 134 || code === 5 || code === 135) return 'The broker refused the username or password: check the environment credentials (makerdeck env show)';
  if (code === 1 || code === 132) return `The broker does not speak MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: choose the other version`;
  return `The broker connection failed (${error.message.split('\n')[0]})`;
}
