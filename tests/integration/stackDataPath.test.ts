// The real data path on the test engine: `makerdeck stack up --profile core` starts RabbitMQ
// (Debian's real 3.10), InfluxDB (real 1.8.10) and Telegraf (real 1.34) from the rig's images;
// a telemetry line published over MQTT lands in InfluxDB, and survives `down` and `up`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackServiceView } from '../../electron/contract';
import { createHost } from '../../electron/core/host';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { lockRealStack } from '../support/stackLock';
import { until } from '../support/wait';

let dataDir: string;
const env = () => ({ MAKERDECK_DATA_DIR: dataDir });

async function credentials() {
  const host = createHost({ kind: 'cli', quiet: true, dataDir });
  const get = async (name: string) => (await host.stackCredentials.get(name))!;
  return {
    rabbit: await get('rabbitmq-admin'),
    influx: await get('influxdb-admin'),
    /** The device's own broker login (deviceAccounts.ts), made on first use. */
    device: (id: string) => host.deviceAccounts.ensure(id),
  };
}
type Secrets = Awaited<ReturnType<typeof credentials>>;

async function queryDevice(password: string, device: string): Promise<unknown[][]> {
  const url = new URL('http://127.0.0.1:8086/query');
  url.searchParams.set('db', 'makerdeck');
  url.searchParams.set('q', `SELECT "temp_c" FROM "telemetry" WHERE "device" = '${device}'`);
  const response = await fetch(url, {
    headers: { Authorization: `Basic ${Buffer.from(`makerdeck:${password}`).toString('base64')}` },
  });
  const body = (await response.json()) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
  return body.results[0]?.series?.[0]?.values ?? [];
}

/** The device's stored temperatures, once InfluxDB has any (it may still be starting: errors retry). */
function storedRows(influxPassword: string, device: string, what: string) {
  return until(
    what,
    async () => {
      const values = await queryDevice(influxPassword, device).catch(() => []);
      return values.length > 0 ? values : undefined;
    },
    40_000,
    500,
  );
}

/** An MQTT 3.1.1 session as the device's own broker user; no reconnects, so a refusal shows. */
async function connectAsDevice(secrets: Secrets, device: string) {
  const login = await secrets.device(device);
  return mqtt.connectAsync('mqtt://127.0.0.1:1883', {
    username: login.username,
    password: login.password,
    protocolVersion: 4,
    connectTimeout: 10_000,
    reconnectPeriod: 0,
  });
}

/** Publishes one temperature as the device user and returns it as InfluxDB stored it. */
async function publishAsDevice(secrets: Secrets, device: string, tempC: number) {
  const client = await connectAsDevice(secrets, device);
  await client.publishAsync(`makerdeck/${device}/telemetry`, `telemetry,device=${device} temp_c=${tempC}`, { qos: 1 });
  await client.endAsync();
  return (await storedRows(secrets.influx, device, `${device}'s point in InfluxDB`))[0]?.[1];
}

/** The device user may publish Makerdeck telemetry and status only, and has no management access. */
async function expectDeviceUserConfined(secrets: Secrets, device: string) {
  const client = await connectAsDevice(secrets, device);
  let closed = false;
  client.once('close', () => (closed = true));
  client.publish('some/other/topic', 'x', { qos: 1 });
  await until("the broker closing the device user's connection after a publish to another topic", () => closed, 8000);
  client.end(true);
  const login = await secrets.device(device);
  const management = await fetch('http://127.0.0.1:15672/api/overview', {
    headers: { Authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}` },
  });
  expect(management.status).toBe(401);
}

let unlock: (() => void) | undefined;

beforeAll(async () => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  unlock = await lockRealStack();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-datapath-'));
}, 600_000);

afterAll(async () => {
  await runCli(['stack', 'reset', '--yes'], env(), { timeoutMs: 60_000 });
  rmSync(dataDir, { recursive: true, force: true });
  unlock?.();
}, 90_000);

describe('the core stack on the real engine (real RabbitMQ, InfluxDB and Telegraf)', () => {
  it('comes up healthy, carries a telemetry line from MQTT into InfluxDB, and keeps it across down and up', async () => {
    const up = await runCli(['stack', 'up', '--profile', 'core', '--json'], env(), { timeoutMs: 180_000 });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const services = JSON.parse(up.stdout) as StackServiceView[];
    expect(services.map((s) => [s.name, s.state, s.health])).toEqual([
      ['rabbitmq', 'running', 'healthy'],
      ['influxdb', 'running', 'healthy'],
      ['telegraf', 'running', 'healthy'],
    ]);
    expect(services.find((s) => s.name === 'rabbitmq')!.links).toEqual([
      { label: 'RabbitMQ console', url: 'http://127.0.0.1:15672/' },
    ]);

    const secrets = await credentials();
    expect(secrets.rabbit).toMatch(/^[\w-]{43}$/); // generated per install, in the keychain
    // Boards log in as their own device user, not as the admin.
    expect((await secrets.device('datapath-1')).password).toMatch(/^[\w-]{43}$/);
    expect(await publishAsDevice(secrets, 'datapath-1', 21.5)).toBe(21.5);
    await expectDeviceUserConfined(secrets, 'datapath-1');

    // The charts' history: a Flux query through @influxdata/influxdb-client (InfluxDB 1.8 compatibility API).
    const host = createHost({ kind: 'cli', quiet: true, dataDir });
    const history = await host.call('telemetry.history', {
      series: [{ device: 'datapath-1', field: 'temp_c' }],
      from: Date.now() - 3_600_000,
      to: Date.now() + 60_000,
      points: 100,
    });
    expect(history).toEqual({
      ok: true,
      value: [{ device: 'datapath-1', field: 'temp_c', t: [expect.any(Number)], v: [21.5] }],
    });
    // …and the catalog a fresh page starts from: newest values as a list of fields
    const catalog = await host.call('telemetry.catalog', { from: Date.now() - 3_600_000, to: Date.now() + 60_000 });
    const last = [{ field: 'temp_c', t: expect.any(Number), v: 21.5 }];
    const stored = { device: 'datapath-1', status: 'unknown', source: 'mqtt', lastSeen: expect.any(Number), last };
    expect(catalog).toEqual({ ok: true, value: [stored] });

    expect((await runCli(['stack', 'down', '--json'], env(), { timeoutMs: 60_000 })).code).toBe(0);
    const again = await runCli(['stack', 'up', '--profile', 'core', '--json'], env(), { timeoutMs: 180_000 });
    expect(again.code, again.stderr).toBe(0);
    const kept = await storedRows(secrets.influx, 'datapath-1', 'InfluxDB after down and up');
    expect(kept[0]?.[1]).toBe(21.5);
    // Telegraf started beside the broker this time, with its session kept by the broker: a point
    // published the moment up returns still lands.
    expect(await publishAsDevice(secrets, 'datapath-2', 22.5)).toBe(22.5);
    const status = JSON.parse(
      (await runCli(['stack', 'status', '--profile', 'core', '--json'], env())).stdout,
    ) as StackServiceView[];
    expect(status.every((s) => s.state === 'running')).toBe(true);

    // Following a log prints batches as JSON lines until Ctrl+C, which ends it cleanly.
    const follow = await runCli(['stack', 'logs', 'rabbitmq', '--follow', '--tail', '5', '--json'], env(), {
      interruptWhen: (out) => out.includes('\n'),
    });
    expect(follow.code, follow.stderr).toBe(0);
    expect(JSON.parse(follow.stdout.split('\n')[0]!)).toEqual({
      service: 'rabbitmq',
      lines: expect.arrayContaining([expect.any(String)]),
    });

    // A profile takes its device's own login (made now, kept in the keychain): nothing typed, nothing shown.
    const saved = await runCli(
      [
        'profile',
        'set',
        'lab-board',
        '--board',
        'arduino:avr:uno',
        '--mqtt-host',
        '127.0.0.1',
        '--device-id',
        'lab-1',
        '--stack-login',
        '--json',
      ],
      env(),
    );
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).not.toContain((await secrets.device('lab-1')).password);
    const profile = JSON.parse(saved.stdout) as { mqttUsername: string; secrets: { mqttPassword: boolean } };
    expect([profile.mqttUsername, profile.secrets.mqttPassword]).toEqual(['makerdeck-dev-lab-1', true]);
  }, 300_000);
});
