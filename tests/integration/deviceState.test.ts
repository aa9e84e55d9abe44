// Device online/offline state on both brokers Makerdeck meets: Debian's Mosquitto 2.0 and Debian's
// RabbitMQ 3.10 (the seed's broker; its MQTT plugin hands retained messages only to subscriptions
// naming the exact topic, never to makerdeck/+/status). Devices behave as the firmware does: a
// retained `online` on connect and a retained last will `offline`; one device publishes telemetry
// only, as a board without a status topic would. Makerdeck's telemetry starts after they are up,
// reconnects, and sees a device's connection killed.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto } from '../../scripts/services/mosquitto.js';
import { startRabbitMQ } from '../../scripts/services/rabbitmq.js';
import type { DeviceView, TelemetryStatus } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { requiredEnv } from '../support/env';
import { attachedBroker, callHost, until } from '../support/wait';

interface Broker {
  url: string;
  username?: string;
  password?: string;
  stop(): Promise<void>;
}

/** "Within a few seconds": every state below must be right this soon after its cause. */
const FEW_SECONDS = 6_000;

/** Makerdeck reaches the broker through this TCP relay, so the test can break its connection alone. */
async function relay(target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const upstream = net.connect(Number(port), hostname);
    for (const [from, to] of [
      [socket, upstream],
      [upstream, socket],
    ] as const) {
      sockets.add(from);
      from.on('error', () => to.destroy());
      from.on('close', () => (sockets.delete(from), to.destroy()));
      from.pipe(to);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    /** Resets every connection through it (the broker stays up). */
    cut: () => sockets.forEach((socket) => socket.resetAndDestroy()),
    close: () => (sockets.forEach((socket) => socket.destroy()), new Promise((resolve) => server.close(resolve))),
  };
}

const BROKERS: Array<[string, (dir: string) => Promise<Broker>]> = [
  ['Mosquitto 2.0', (dir) => startMosquitto({ dir })],
  ['RabbitMQ 3.10', (dir) => startRabbitMQ({ dir })],
];

describe.each(BROKERS)('device state on %s', (name, start) => {
  let scratch: string;
  let broker: Broker;
  let host: Host;
  let link: Awaited<ReturnType<typeof relay>>;
  const devices: MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];

  /** A device as the firmware is: retained online, retained last will offline, telemetry every 300 ms. */
  async function device(id: string, options: { status?: boolean; telemetry?: boolean } = {}): Promise<MqttClient> {
    const status = `makerdeck/${id}/status`;
    const client = await mqtt.connectAsync(broker.url, {
      username: broker.username,
      password: broker.password,
      clientId: `${id}-${process.pid}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ...(options.status === false ? {} : { will: { topic: status, payload: 'offline', qos: 1, retain: true } }),
    });
    devices.push(client);
    if (options.status !== false) await client.publishAsync(status, 'online', { qos: 1, retain: true });
    if (options.telemetry !== false) {
      let seq = 0;
      const send = () =>
        client.connected && client.publish(`makerdeck/${id}/telemetry`, `telemetry,device=${id} seq=${seq++}i`);
      send();
      timers.push(setInterval(send, 300));
    }
    return client;
  }

  /** Its connection dies without a DISCONNECT (power cut, Wi-Fi gone): the broker sends its last will. */
  const kill = (client: MqttClient) => {
    client.options.reconnectPeriod = 0;
    client.stream.destroy();
  };

  const views = async () => (await callHost<TelemetryStatus>(host, 'telemetry.status', {})).devices;
  const stateOf = (list: DeviceView[], id: string) => list.find((d) => d.device === id)?.status ?? 'unknown';

  /** Waits until every device has the wanted state (and, where given, says how it is known). */
  async function expectStates(
    want: Record<string, DeviceView['status'] | [DeviceView['status'], string]>,
    what: string,
  ) {
    const ids = Object.keys(want);
    const right = (list: DeviceView[], id: string) => {
      const [status, note] = typeof want[id] === 'string' ? [want[id], undefined] : want[id]!;
      const view = list.find((d) => d.device === id);
      return (view?.status ?? 'unknown') === status && (note === undefined || view?.statusNote === note);
    };
    await until(
      `${what}: ${JSON.stringify(want)}`,
      async () => {
        const list = await views();
        return ids.every((id) => right(list, id)) || undefined;
      },
      FEW_SECONDS,
    );
  }

  beforeAll(async () => {
    requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
    scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-devstate-'));
    broker = await start(path.join(scratch, 'broker'));
    host = createHost({ kind: 'cli', quiet: true, dataDir: path.join(scratch, 'data') });
    link = await relay(broker.url);
    const attach = attachedBroker(link.url);
    await callHost(host, 'environment.set', {
      environment: { ...attach.environment, mqttUsername: broker.username ?? '' },
      secrets: broker.password ? { mqttPassword: broker.password } : {},
    });
  }, 120_000);

  afterAll(async () => {
    timers.forEach(clearInterval);
    await host?.call('telemetry.disconnect', {});
    await Promise.all(devices.map((client) => client.endAsync(true)));
    await link?.close();
    await broker?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  it('is right within a few seconds of starting after the devices, after a reconnect, and when a device dies', async () => {
    // Devices up before Makerdeck: one reporting, one with telemetry only (no status topic), one
    // that said online and then lost its connection (its retained will says offline).
    const reporting = await device('dev-a');
    await device('dev-plain', { status: false });
    const gone = await device('dev-gone');
    kill(gone);

    await callHost(host, 'telemetry.connect', {});
    // dev-a's retained status reaches us on either broker (on RabbitMQ once its telemetry named it
    // and Makerdeck subscribed to its exact status topic); dev-plain is known by its telemetry.
    const mosquitto = name.startsWith('Mosquitto');
    await expectStates(
      {
        'dev-a': ['online', 'from its status topic'],
        'dev-plain': ['online', 'from its telemetry'],
        // A device Makerdeck has no word of yet: offline by the retained will where the broker hands
        // it to makerdeck/+/status (Mosquitto); RabbitMQ does not, so it is not shown (unknown), never "online".
        'dev-gone': mosquitto ? ['offline', 'from its status topic'] : 'unknown',
      },
      'after start',
    );

    // dev-plain's interval is learned from the gaps between its points (one point alone: 10 s assumed).
    await until('a few points of dev-plain', async () => {
      const plain = (await views()).find((d) => d.device === 'dev-plain');
      return (plain?.last.find((l) => l.field === 'seq')?.v ?? 0) >= 4;
    });

    // Makerdeck reconnects; meanwhile dev-a dies and dev-plain stops publishing.
    await callHost(host, 'telemetry.disconnect', {});
    kill(reporting);
    await devices[1]!.endAsync();
    await callHost(host, 'telemetry.connect', {});
    // Its retained will, asked for by exact topic on the new session.
    await expectStates({ 'dev-a': ['offline', 'from its status topic'] }, 'after a reconnect');
    // dev-plain has no status topic: offline once silent for a few of its intervals (at least 5 s).
    const silent = await until(
      'dev-plain offline after its silence',
      async () => (await views()).find((d) => d.device === 'dev-plain' && d.status === 'offline'),
      20_000, // 3 of its ~300 ms intervals, at least 5 s, from its last point; slack for a loaded machine
    );
    expect(silent.statusNote).toMatch(/^silent for \d+ s \(no status topic\)$/);

    // A device that comes online now, then has its connection killed: offline by its last will.
    const late = await device('dev-late');
    await expectStates({ 'dev-late': 'online' }, 'a device coming online');
    kill(late);
    await expectStates({ 'dev-late': ['offline', 'from its status topic'] }, 'a killed connection');
    expect(stateOf(await views(), 'dev-a')).toBe('offline'); // nothing flipped back meanwhile

    // The broker connection breaks (Makerdeck's alone) and comes back by itself; meanwhile one device
    // dies and another comes online: right again within a few seconds of the reconnect.
    const third = await device('dev-c');
    await expectStates({ 'dev-c': 'online' }, 'dev-c online');
    const cutAt = Date.now();
    link.cut();
    kill(third);
    await device('dev-d');
    await until('the broker connection back (its first retry is 1 s after the break)', async () => {
      const { broker: state } = await callHost<TelemetryStatus>(host, 'telemetry.status', {});
      return state.state === 'connected' && state.since > cutAt;
    });
    await expectStates(
      { 'dev-c': ['offline', 'from its status topic'], 'dev-d': 'online', 'dev-a': 'offline' },
      'after the broker connection came back',
    );
  }, 90_000);
});
