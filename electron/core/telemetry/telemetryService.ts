// The telemetry capability for the hosts: the broker connection of the active environment, the
// serial gateway, the store, and batches for the charts (at most one event per 50 ms, never one
// per MQTT message), with history from InfluxDB.
import {
  MakerdeckError,
  type BrokerState,
  type DeviceView,
  type MonitorLines,
  type MonitorState,
  type SeriesPoints,
  type StorageState,
  type TelegrafLoss,
  type TelemetryBatch,
  type TelemetryState,
  type TelemetryStatus,
} from '../../contract';
import type { SerialMonitor } from '../serial/monitor';
import type { Endpoints, Environments } from '../stack/environment';
import { conflictFix } from '../stack/telegrafLog';
import { queryCatalog, queryHistory, type HistoryQuery } from './influxHistory';
import { DeviceStatusLink, type LinkOptions } from './deviceStatusLink';
import { ingestMessage } from './ingest';
import { MqttSource } from './mqttSource';
import { SerialGateway } from './serialGateway';
import { TelemetryStore } from './telemetryStore';

export const BATCH_MS = 50;

export interface TelemetryDeps {
  environments: Pick<Environments, 'endpoints'>;
  monitor: Pick<SerialMonitor, 'open' | 'close'>;
  batch(batch: TelemetryBatch): void;
  state(state: TelemetryState): void;
  store?: TelemetryStore;
  /**
   * A device's own broker login (DeviceAccounts.stored): the gateway publishes its lines and status
   * with it, so the broker's per-device permission holds; devices without one use the environment's.
   */
  deviceLogin?(deviceId: string): Promise<{ username: string; password: string } | undefined>;
}

export class TelemetryService {
  readonly store: TelemetryStore;
  private source?: MqttSource;
  private gateway?: { sessionId: string; gateway: SerialGateway; message?: string };
  private timer?: NodeJS.Timeout;
  private loss?: TelegrafLoss;
  /** The broker of the last connect, for the gateway's devices' status links. */
  private broker?: LinkOptions;
  private readonly links = new Map<string, DeviceStatusLink>();
  /** Gateway devices whose login is being read: their lines wait in the gateway's queue meanwhile. */
  private readonly linking = new Set<string>();
  /** Bumped when the links are dropped, so a login read that ends afterwards opens no link. */
  private linkGeneration = 0;
  private current: TelemetryState = {
    broker: { state: 'disconnected', since: Date.now() },
    history: { state: 'unknown' },
  };

  constructor(private readonly deps: TelemetryDeps) {
    this.store = deps.store ?? new TelemetryStore();
  }

  /** Connects to the active environment's broker (again, if it was connected). */
  async connect(protocolVersion: 4 | 5 = 4, connectTimeoutMs = 10_000): Promise<TelemetryState> {
    await this.source?.stop();
    const { mqtt } = await this.deps.environments.endpoints();
    this.broker = { url: mqtt.url, username: mqtt.username, password: mqtt.password, protocolVersion };
    this.source = new MqttSource({
      url: mqtt.url,
      username: mqtt.username,
      password: mqtt.password,
      protocolVersion,
      connectTimeoutMs,
      onMessage: (topic, payload) => this.receive(topic, payload),
      onState: (state, message, loginRefused) => this.brokerState(state, mqtt.url, message, loginRefused),
    });
    // Devices already known (from telemetry or InfluxDB) get their retained status on this broker too.
    this.source.watchStatus(this.store.deviceViews().flatMap((d) => (d.source === 'mqtt' ? [d.device] : [])));
    this.source.start();
    this.startBatching();
    return this.state();
  }

  async disconnect(): Promise<TelemetryState> {
    const source = this.source;
    this.source = undefined;
    await source?.stop();
    return this.state();
  }

  /** Reads a board on USB; its telemetry is charted and published to the broker. */
  async startGateway(port: string, baudRate: number): Promise<TelemetryState> {
    if (this.gateway)
      throw new MakerdeckError('UNAVAILABLE', `The gateway already reads ${this.gateway.gateway.port}: stop it first`);
    const { sessionId } = await this.deps.monitor.open(port, baudRate);
    const gateway = new SerialGateway(port, this.store, {
      publish: (topic, payload) => this.publishFromGateway(topic, payload),
      deviceSeen: (device) => this.linkDevice(device),
    });
    this.gateway = { sessionId, gateway };
    this.startBatching();
    return this.changed({});
  }

  async stopGateway(): Promise<TelemetryState> {
    const running = this.gateway;
    if (!running) return this.state();
    this.gateway = undefined;
    running.gateway.closed();
    await this.deps.monitor.close(running.sessionId).catch(() => undefined); // already closed by an unplug
    await this.unlinkDevices();
    return this.changed({});
  }

  /**
   * A gateway device gets its own broker connection: retained `online`, last will `offline`; with
   * the device's own login when the keychain has one, and then its telemetry goes out on it too.
   */
  private linkDevice(device: string): void {
    const broker = this.broker;
    if (!broker || this.links.has(device) || this.linking.has(device)) return;
    if (!this.deps.deviceLogin) {
      this.links.set(device, new DeviceStatusLink(broker, device));
      return;
    }
    const generation = this.linkGeneration;
    this.linking.add(device);
    void this.deps
      .deviceLogin(device)
      .catch(() => undefined) // a locked keychain: the environment's login, as before
      .then((own) => {
        this.linking.delete(device);
        if (generation !== this.linkGeneration) return;
        const options = own ? { ...broker, username: own.username, password: own.password } : broker;
        this.links.set(device, new DeviceStatusLink(options, device, own !== undefined));
      });
  }

  /** A gateway line goes out on its device's own link when it has its own login, else on the shared connection. */
  private publishFromGateway(topic: string, payload: string): boolean {
    const device = topic.slice(10, topic.indexOf('/', 10)); // makerdeck/<device>/telemetry
    if (this.linking.has(device)) return false; // kept until its login is known
    const link = this.links.get(device);
    if (link?.ownLogin) return link.publish(topic, payload);
    return this.source?.publish(topic, payload) ?? false;
  }

  private async unlinkDevices(): Promise<void> {
    this.linkGeneration++;
    this.linking.clear();
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((link) => link.close()));
  }

  /** Monitor lines, for the gateway's session. */
  monitorLines(batch: MonitorLines): void {
    if (batch.sessionId === this.gateway?.sessionId) this.gateway.gateway.receive(batch.lines);
  }

  /** The gateway's port closed (unplugged): its devices go offline. */
  monitorState(state: MonitorState): void {
    if (state.sessionId !== this.gateway?.sessionId || state.state !== 'closed') return;
    this.gateway.gateway.closed();
    void this.unlinkDevices();
    this.gateway.message = state.reason ? `The gateway stopped: ${state.reason}` : undefined;
    this.changed({});
  }

  /**
   * What Telegraf's log says (the host follows it for the local stack): the Telemetry page shows
   * which series are not stored. `watched` false: nothing watches the storage (an attached one).
   */
  setTelegrafLoss(loss: TelegrafLoss | undefined, watched = true): TelemetryState {
    this.loss = loss;
    return this.changed({ storage: watched ? this.storage() : undefined });
  }

  /** The series InfluxDB refuses: those whose devices sent the refused type (by Makerdeck's own store). */
  private storage(): StorageState {
    const loss = this.loss;
    if (!loss) return { state: 'ok', series: [] };
    const series = loss.conflicts.flatMap(({ measurement, field, stored, got }) => {
      const reason = `field type conflict: ${field} is ${stored} in InfluxDB, sent as ${got}: those points are dropped; ${conflictFix(field, stored)}`;
      const numeric = got === 'float' || got === 'integer' || got === 'unsigned';
      const devices = numeric ? this.store.devicesSending(field, got !== 'float') : [];
      return devices.length > 0
        ? devices.map((device) => ({ measurement, field, device, reason }))
        : [{ measurement, field, reason }];
    });
    return { state: loss.state, message: loss.message, lastAt: loss.lastAt, series };
  }

  status(): TelemetryStatus {
    return {
      ...this.state(),
      devices: this.store.deviceViews(),
      accepted: this.store.accepted,
      rejected: this.store.rejected,
      recentRejects: this.store.recentRejects(),
    };
  }

  /** Sends the pending batch first, so a client knows every batch before this answer is in it. */
  window(series: Array<{ device: string; field: string }>, from: number, to: number): SeriesPoints[] {
    this.flush();
    return this.store.window(series, from, to);
  }

  history(query: HistoryQuery): Promise<SeriesPoints[]> {
    return this.fromInflux((influx) => queryHistory(influx, query));
  }

  /** Devices InfluxDB knows from a window, so a fresh start can chart what was stored before. */
  async catalog(from: number, to: number): Promise<DeviceView[]> {
    const devices = await this.fromInflux((influx) => queryCatalog(influx, from, to));
    // Their retained status, asked for by exact topic (what RabbitMQ 3.10 needs to hand it over).
    this.source?.watchStatus(devices.map((d) => d.device));
    return devices;
  }

  private async fromInflux<T>(query: (influx: Endpoints['influx']) => Promise<T>): Promise<T> {
    const { influx } = await this.deps.environments.endpoints();
    try {
      const result = await query(influx);
      this.changed({ history: { state: 'ok' } });
      return result;
    } catch (error) {
      this.changed({ history: { state: 'failed', message: (error as Error).message } });
      throw error;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.stopGateway();
    await this.disconnect();
  }

  private receive(topic: string, payload: Buffer): void {
    ingestMessage(this.store, topic, payload, Date.now(), this.fromGateway);
    const device = topic.slice(10, topic.indexOf('/', 10)); // makerdeck/<device>/…
    if (this.source && !this.source.watches(device) && this.store.has(device)) this.source.watchStatus([device]);
  }

  /** The gateway's own publishes come back from the broker: those points are already here. */
  private readonly fromGateway = (device: string) => this.gateway?.gateway.devices.has(device) === true;

  private brokerState(state: BrokerState, url: string, message?: string, loginRefused?: boolean): void {
    if (state === 'connected') this.gateway?.gateway.flush();
    this.changed({ broker: { state, url, message, since: Date.now(), ...(loginRefused ? { loginRefused } : {}) } });
  }

  private startBatching(): void {
    // unref: the broker socket or the serial port keeps a host alive, not this timer
    this.timer ??= setInterval(() => this.flush(), BATCH_MS).unref();
  }

  private flush(): void {
    this.store.sweepSilent();
    this.gateway?.gateway.flush();
    const batch = this.store.takeBatch();
    if (batch) this.deps.batch(batch);
    if (this.gateway && this.gateway.gateway.queued > 0) this.changed({});
  }

  private state(): TelemetryState {
    const running = this.gateway;
    const gateway = running && {
      port: running.gateway.port,
      device: [...running.gateway.devices][0],
      published: running.gateway.published,
      queued: running.gateway.queued,
      message: running.message,
    };
    return { ...this.current, gateway };
  }

  private changed(update: Partial<TelemetryState>): TelemetryState {
    this.current = { ...this.current, ...update };
    const state = this.state();
    this.deps.state(state);
    return state;
  }
}
