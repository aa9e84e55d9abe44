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

let dataDir: string;
const env = () => ({ MAKERDECK_DATA_DIR: dataDir });

async function credentials() {
  const host = createHost({ kind: 'cli', quiet: true, dataDir });
  return { rabbit: (await host.stackCredentials.get('rabbitmq-admin'))!, influx: (await host.stackCredentials.get('influxdb-admin'))! };
}

async function queryDevice(password: string, device: string): Promise<unknown[][]> {
  const url = new URL('http://127.0.0.1:8086/query');
  url.searchParams.set('db', 'makerdeck');
  url.searchParams.set('q', `SELECT "temp_c" FROM "telemetry" WHERE "device" = '${device}'`);
  const response = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from(`makerdeck:${password}`).toString('base64')}` } });
  const body = (await response.json()) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
  return body.results[0]?.series?.[0]?.values ?? [];
}

async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 40_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await get().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(() => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-datapath-'));
});

afterAll(async () => {
  await runCli(['stack', 'reset', '--yes'], env(), { timeoutMs: 60_000 });
  rmSync(dataDir, { recursive: true, force: true });
});

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
    expect(services.find((s) => s.name === 'rabbitmq')!.links).toEqual([{ label: 'RabbitMQ console', url: 'http://127.0.0.1:15672/' }]);

    const secrets = await credentials();
    expect(secrets.rabbit).toMatch(/^[\w-]{43}$/); // generated per install, in the keychain
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { username: 'makerdeck', password: secrets.rabbit, protocolVersion: 4, connectTimeout: 10_000, reconnectPeriod: 0 });
    await client.publishAsync('makerdeck/datapath-1/telemetry', 'telemetry,device=datapath-1 temp_c=21.5', { qos: 1 });
    await client.endAsync();
    const rows = await until('the point in InfluxDB', async () => {
      const values = await queryDevice(secrets.influx, 'datapath-1');
      return values.length > 0 ? values : undefined;
    });
    expect(rows[0]?.[1]).toBe(21.5);

    expect((await runCli(['stack', 'down', '--json'], env(), { timeoutMs: 60_000 })).code).toBe(0);
    const again = await runCli(['stack', 'up', '--profile', 'core', '--json'], env(), { timeoutMs: 180_000 });
    expect(again.code, again.stderr).toBe(0);
    const kept = await until('InfluxDB after down and up', async () => {
      const values = await queryDevice(secrets.influx, 'datapath-1');
      return values.length > 0 ? values : undefined;
    });
    expect(kept[0]?.[1]).toBe(21.5);
    const status = JSON.parse((await runCli(['stack', 'status', '--profile', 'core', '--json'], env())).stdout) as StackServiceView[];
    expect(status.every((s) => s.state === 'running')).toBe(true);
  }, 300_000);
});
