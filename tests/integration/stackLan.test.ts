// The broker open to the LAN, tried from another network namespace as a board on Wi-Fi would: a
// veth pair (10.231.0.1 here, 10.231.0.2 in the namespace) and a real MQTT client run inside it
// against the real stack's RabbitMQ (Debian's 3.10, from the rig images). With the choice on, the
// device login reaches the broker through Docker's published port and publishes; guest and
// anonymous logins are refused. With it off, the connection is refused. Only the broker is
// re-created when the choice changes.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackLanView, StackServiceView } from '../../electron/contract';
import { createHost } from '../../electron/core/host';
import { connectDocker, dockerEndpoint } from '../../electron/core/stack/dockerClient';
import { runCli } from '../support/cli';
import { repoRoot, requiredEnv } from '../support/env';
import { lockRealStack } from '../support/stackLock';
import { until } from '../support/wait';

const run = promisify(execFile);

// Fixed names: a run killed half-way leaves them, and the next run removes them first.
const NS = 'makerdeck-lan';
const HOST_IF = 'mdlan-host';
const NS_IF = 'mdlan-board';
const HOST_ADDR = '10.231.0.1';
const NS_ADDR = '10.231.0.2';

let dataDir: string;
const env = () => ({ MAKERDECK_DATA_DIR: dataDir });

const ip = (...args: string[]) => run('ip', args);

async function removeNetwork(): Promise<void> {
  // Deleting the namespace destroys its veth end, and with it the pair; the link delete covers a
  // pair whose end never moved into the namespace.
  await ip('netns', 'del', NS).catch(() => undefined);
  await ip('link', 'del', HOST_IF).catch(() => undefined);
}

async function createNetwork(): Promise<void> {
  await ip('netns', 'add', NS);
  await ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
  await ip('link', 'set', NS_IF, 'netns', NS);
  await ip('addr', 'add', `${HOST_ADDR}/24`, 'dev', HOST_IF);
  await ip('link', 'set', HOST_IF, 'up');
  await ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_ADDR}/24`, 'dev', NS_IF);
  await ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
  await ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
}

/**
 * Run inside the namespace: one MQTT 3.1.1 connect (no reconnects) and, once connected, one QoS 1
 * publish; prints what happened as JSON. The password comes through the environment, never argv.
 */
const BOARD = `
const mqtt = require('mqtt');
const { MQTT_URL, MQTT_USER, MQTT_PASSWORD, TOPIC, PAYLOAD } = process.env;
const say = (result) => { process.stdout.write(JSON.stringify(result)); process.exit(0); };
const client = mqtt.connect(MQTT_URL, {
  username: MQTT_USER || undefined, password: MQTT_PASSWORD || undefined,
  protocolVersion: 4, connectTimeout: 8000, reconnectPeriod: 0,
});
client.on('error', (error) => say({ error: error.code ?? error.message }));
const published = () => client.end(false, () => say({ connected: true, published: true }));
client.on('connect', () => client.publish(TOPIC, PAYLOAD, { qos: 1 }, (error) =>
  error ? say({ connected: true, error: error.message }) : published()));
setTimeout(() => say({ error: 'no answer in 10 s' }), 10000);
`;

interface BoardResult {
  connected?: boolean;
  published?: boolean;
  error?: string | number;
}

/** An MQTT client in the namespace, as a board on the LAN. */
async function boardConnects(login: { user?: string; password?: string }, payload = 'x'): Promise<BoardResult> {
  const { stdout } = await run('ip', ['netns', 'exec', NS, process.execPath, '-e', BOARD], {
    cwd: repoRoot,
    timeout: 20_000,
    env: {
      ...process.env,
      MQTT_URL: `mqtt://${HOST_ADDR}:1883`,
      MQTT_USER: login.user ?? '',
      MQTT_PASSWORD: login.password ?? '',
      TOPIC: 'makerdeck/lan-1/telemetry',
      PAYLOAD: payload,
    },
  });
  return JSON.parse(stdout) as BoardResult;
}

async function stackCredential(name: string): Promise<string> {
  const host = createHost({ kind: 'cli', quiet: true, dataDir });
  return (await host.stackCredentials.get(name))!;
}

/** Container ids by service: which ones a change re-created. */
async function containerIds(): Promise<Record<string, string>> {
  const docker = await connectDocker(dockerEndpoint(process.env));
  const list = await docker.listContainers({ all: true, filters: { label: ['com.docker.compose.project=makerdeck'] } });
  return Object.fromEntries(list.map((c) => [c.Labels['com.docker.compose.service']!, c.Id]));
}

async function brokerBinding(): Promise<string | undefined> {
  const status = await runCli(['stack', 'status', '--profile', 'core', '--json'], env());
  const services = JSON.parse(status.stdout) as StackServiceView[];
  return services.find((s) => s.name === 'rabbitmq')?.ports.find((p) => p.containerPort === 1883)?.hostIp;
}

async function setLan(choice: 'on' | 'off'): Promise<StackLanView> {
  const result = await runCli(['stack', 'lan', choice, '--json'], env(), { timeoutMs: 180_000 });
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StackLanView;
}

const rememberedChoice = () =>
  (JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8')) as { stack: { lanBroker: boolean } }).stack
    .lanBroker;

let unlock: (() => void) | undefined;

beforeAll(async () => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  unlock = await lockRealStack();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-lan-'));
  await removeNetwork();
  await createNetwork();
}, 600_000);

afterAll(async () => {
  await removeNetwork();
  await runCli(['stack', 'reset', '--yes'], env(), { timeoutMs: 60_000 });
  rmSync(dataDir, { recursive: true, force: true });
  unlock?.();
}, 90_000);

describe('the local broker on the LAN, from another network namespace (real RabbitMQ, real dockerd)', () => {
  it('refuses a board while off, lets its device login publish once on, and closes again', async () => {
    const up = await runCli(['stack', 'up', '--profile', 'core', '--json'], env(), { timeoutMs: 180_000 });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(await brokerBinding()).toBe('127.0.0.1'); // loopback by default
    const device = await stackCredential('rabbitmq-device');
    expect(await boardConnects({ user: 'makerdeck-device', password: device })).toEqual({ error: 'ECONNREFUSED' });

    // On: the broker alone is re-created, bound to every interface; the LAN address is listed.
    const before = await containerIds();
    const lan = await setLan('on');
    expect(lan).toMatchObject({ enabled: true, port: 1883, applied: 'now' });
    expect(lan.addresses).toContain(HOST_ADDR);
    expect(rememberedChoice()).toBe(true);
    const after = await containerIds();
    expect(after.rabbitmq).not.toBe(before.rabbitmq);
    expect([after.influxdb, after.telegraf]).toEqual([before.influxdb, before.telegraf]);
    expect(await brokerBinding()).toBe('0.0.0.0');

    // What the board publishes arrives at a subscriber on this computer.
    const admin = await mqtt.connectAsync('mqtt://127.0.0.1:1883', {
      username: 'makerdeck',
      password: await stackCredential('rabbitmq-admin'),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const received: string[] = [];
    admin.on('message', (_topic, payload) => received.push(payload.toString()));
    await admin.subscribeAsync('makerdeck/lan-1/telemetry', { qos: 1 });
    const line = 'telemetry,device=lan-1 temp_c=19.5';
    expect(await boardConnects({ user: 'makerdeck-device', password: device }, line)).toEqual({
      connected: true,
      published: true,
    });
    await until('the board’s point at the subscriber', () => received.includes(line));
    await admin.endAsync();

    // Only the device login: no guest, no anonymous login, no wrong password.
    for (const login of [{ user: 'guest', password: 'guest' }, {}, { user: 'makerdeck-device', password: 'wrong' }]) {
      const refused = await boardConnects(login);
      expect(refused.connected, JSON.stringify(login)).toBeUndefined();
      expect([4, 5], `${JSON.stringify(login)}: ${String(refused.error)}`).toContain(refused.error);
    }

    // Off again: re-created on loopback, and the board is refused.
    const closed = await setLan('off');
    expect(closed).toMatchObject({ enabled: false, applied: 'now' });
    expect(rememberedChoice()).toBe(false);
    expect(await brokerBinding()).toBe('127.0.0.1');
    expect((await containerIds()).influxdb).toBe(before.influxdb);
    expect(await boardConnects({ user: 'makerdeck-device', password: device })).toEqual({ error: 'ECONNREFUSED' });
  }, 420_000);

  it('remembers the choice for the next up, and up --lan / --no-lan change it', async () => {
    expect((await runCli(['stack', 'down', '--json'], env(), { timeoutMs: 60_000 })).code).toBe(0);
    const waiting = await setLan('on');
    expect(waiting).toMatchObject({ enabled: true, applied: 'next-up' });
    const up = await runCli(['stack', 'up', '--profile', 'core', '--json'], env(), { timeoutMs: 180_000 });
    expect(up.code, up.stderr).toBe(0);
    expect(await brokerBinding()).toBe('0.0.0.0');
    const device = await stackCredential('rabbitmq-device');
    expect(await boardConnects({ user: 'makerdeck-device', password: device })).toEqual({
      connected: true,
      published: true,
    });

    const noLan = await runCli(['stack', 'up', '--profile', 'core', '--no-lan'], env(), { timeoutMs: 180_000 });
    expect(noLan.code, noLan.stderr).toBe(0);
    expect(noLan.stdout).toContain('The broker listens on 127.0.0.1:1883 only');
    expect(await brokerBinding()).toBe('127.0.0.1');
    expect(rememberedChoice()).toBe(false);

    const show = await runCli(['stack', 'lan'], env());
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('127.0.0.1:1883 only');
    const both = await runCli(['stack', 'up', '--lan', '--no-lan'], env());
    expect([both.code, both.stderr.trim()]).toEqual([2, 'makerdeck: Give either --lan or --no-lan, not both']);
  }, 420_000);
});
