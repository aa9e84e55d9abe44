// The online check's one broker connection: subscribes to each waited-for board's own telemetry
// topic and reports the first point whose device tag is that board's id. While the broker cannot be
// reached it says why and tries again every second (a class's wait is a minute, not the telemetry
// page's 30 s backoff), so a broker that comes back in time still ends the wait online.
import mqtt, { type MqttClient } from 'mqtt';
import { parseLineProtocol } from '../lineProtocol';

export interface BrokerLogin {
  url: string;
  username?: string;
  password?: string;
}

export interface TelemetryWatchDeps {
  /** The active environment's broker and login, asked at every (re)connect. */
  broker(): Promise<BrokerLogin>;
  /** The connection's state for everyone waiting: undefined when connected, else why not. */
  state(problem: string | undefined): void;
  retryMs?: number;
  connectTimeoutMs?: number;
}

const RETRY_MS = 1000;
const CONNECT_TIMEOUT_MS = 5000;
/** Telemetry payloads are a few lines; a bigger one is not read further. */
const MAX_LINES = 64;

/** `makerdeck/<id>/telemetry`: the only topic a board's own points count on. */
export function telemetryTopic(deviceId: string): string {
  return `makerdeck/${deviceId}/telemetry`;
}

/** Whether a payload on a board's own topic holds a point tagged with that board's id. */
export function hasOwnPoint(deviceId: string, payload: Buffer): boolean {
  const lines = payload.toString('utf8').split('\n', MAX_LINES);
  return lines.some((line) => {
    const parsed = line.trim() === '' ? undefined : parseLineProtocol(line);
    return parsed?.ok === true && parsed.point.tags.get('device') === deviceId;
  });
}

export class TelemetryWatch {
  private client?: MqttClient;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  private lastError?: string;
  private where = 'the broker';
  /** Device id → how many waits want it and what to call at its first point. */
  private readonly watchers = new Map<string, Set<() => void>>();
  problem: string | undefined = 'connecting';

  constructor(private readonly deps: TelemetryWatchDeps) {}

  /** Calls `onPoint` at each point under the board's id on its own topic; returns the unwatch function. */
  watch(deviceId: string, onPoint: () => void): () => void {
    this.stopped = false; // closed before: this wait connects again
    let set = this.watchers.get(deviceId);
    if (!set) {
      set = new Set();
      this.watchers.set(deviceId, set);
      if (this.client?.connected) this.client.subscribe(telemetryTopic(deviceId), { qos: 0 }, this.subscribed);
    }
    set.add(onPoint);
    if (!this.client && !this.retryTimer) void this.connect();
    return () => this.unwatch(deviceId, onPoint);
  }

  /** A label for messages: "the broker at 127.0.0.1:1883". */
  get broker(): string {
    return this.where;
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.problem = 'connecting';
    const client = this.client;
    this.client = undefined;
    await client?.endAsync(true).catch(() => undefined);
  }

  private unwatch(deviceId: string, onPoint: () => void): void {
    const set = this.watchers.get(deviceId);
    if (!set?.delete(onPoint) || set.size > 0) return;
    this.watchers.delete(deviceId);
    if (this.client?.connected) this.client.unsubscribe(telemetryTopic(deviceId), () => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let login: BrokerLogin;
    try {
      login = await this.deps.broker();
      this.where = `the broker at ${hostOf(login.url)}`;
    } catch (error) {
      return this.failed(`its login could not be read (${(error as Error).message})`);
    }
    if (this.stopped) return;
    const client = mqtt.connect(login.url, {
      username: login.username || undefined,
      password: login.password || undefined,
      protocolVersion: 4,
      connectTimeout: this.deps.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      reconnectPeriod: 0, // our own fixed retry, with the login asked again
      clientId: `makerdeck-lab-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
    });
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (error) => (this.lastError = explain(error)));
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end(true);
      this.failed(this.lastError ?? 'the connection closed');
    });
  }

  private onConnect(client: MqttClient): void {
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.lastError = undefined;
    const topics = [...this.watchers.keys()].map(telemetryTopic);
    if (topics.length > 0) client.subscribe(topics, { qos: 0 }, this.subscribed);
    this.setProblem(undefined);
  }

  private readonly subscribed = (error?: Error | null) => {
    if (error) this.setProblem(`it refused the subscription (${error.message}): this login must read makerdeck/#`);
  };

  private onMessage(topic: string, payload: Buffer): void {
    const match = /^makerdeck\/([^/]+)\/telemetry$/.exec(topic);
    const set = match && this.watchers.get(match[1]!);
    if (!set || !hasOwnPoint(match[1]!, payload)) return;
    for (const onPoint of [...set]) onPoint();
  }

  private failed(why: string): void {
    this.setProblem(why);
    if (this.stopped || this.watchers.size === 0) return; // the next watch connects again
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.deps.retryMs ?? RETRY_MS);
  }

  private setProblem(problem: string | undefined): void {
    this.problem = problem;
    this.deps.state(problem);
  }
}

/** host:port of a broker URL, for messages. */
export function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.port ? `${parsed.hostname}:${parsed.port}` : parsed.hostname;
  } catch {
    return url;
  }
}

/** Why the connection failed, in a few words. */
export function explain(error: Error & { code?: string | number }): string {
  const code = error.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host name';
  if (code === 'ETIMEDOUT' || error.message === 'connack timeout') return 'no answer to the connect';
  if (code === 4 || code === 5) return 'it refused the login (check it with makerdeck env show)';
  return error.message.split('\n')[0]!;
}
