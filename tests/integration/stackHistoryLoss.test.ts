// No silent loss in history, on the real stack (the rig's real RabbitMQ 3.10, Telegraf 1.34 and
// InfluxDB 1.8): a device sends field x once as an integer and once as a float; InfluxDB refuses
// the float (field type conflict) and Telegraf drops it. Makerdeck must say so: Telegraf's state
// on `stack status` becomes "dropping points: <why>", telemetry's storage state flags that series,
// and a different field of the same device goes on being stored.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackServiceView, TelemetryState, TelemetryStatus } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { parseTelegrafLine } from '../../electron/core/stack/telegrafLog';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { lockRealStack } from '../support/stackLock';
import { callHost, until } from '../support/wait';

let dataDir: string;
let host: Host | undefined;
const env = () => ({ MAKERDECK_DATA_DIR: dataDir });

async function influxValues(password: string, query: string): Promise<unknown[][]> {
  const url = new URL('http://127.0.0.1:8086/query');
  url.searchParams.set('db', 'makerdeck');
  url.searchParams.set('q', query);
  const response = await fetch(url, {
    headers: { Authorization: `Basic ${Buffer.from(`makerdeck:${password}`).toString('base64')}` },
  });
  const body = (await response.json()) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
  return body.results[0]?.series?.[0]?.values ?? [];
}

/** The stored values of one field of one device, once there are at least `count` of them. */
function stored(password: string, device: string, field: string, count: number) {
  return until(
    `${count} stored value(s) of ${device}/${field} in InfluxDB`,
    async () => {
      const rows = await influxValues(
        password,
        `SELECT "${field}" FROM "telemetry" WHERE "device" = '${device}'`,
      ).catch(() => []);
      return rows.length >= count ? rows.map((row) => row[1]) : undefined;
    },
    40_000,
    250,
  );
}

/** Telegraf's row of `makerdeck stack status` (which exits 1 while a service loses data). */
async function telegrafState(): Promise<(StackServiceView & { exitCode: number }) | undefined> {
  const status = await runCli(['stack', 'status', '--profile', 'core', '--json'], env());
  if (status.code !== 0 && status.code !== 1) return undefined;
  const telegraf = (JSON.parse(status.stdout) as StackServiceView[]).find((s) => s.name === 'telegraf');
  return telegraf && { ...telegraf, exitCode: status.code };
}

let unlock: (() => void) | undefined;

beforeAll(async () => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  unlock = await lockRealStack();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-loss-'));
}, 600_000);

afterAll(async () => {
  await host?.call('telemetry.disconnect', {});
  await runCli(['stack', 'reset', '--yes'], env(), { timeoutMs: 60_000 });
  rmSync(dataDir, { recursive: true, force: true });
  unlock?.();
}, 90_000);

describe('points InfluxDB refuses (real RabbitMQ 3.10, Telegraf 1.34, InfluxDB 1.8)', () => {
  it('shows Telegraf dropping points with the reason and flags the series, while another field is stored', async () => {
    const up = await runCli(['stack', 'up', '--profile', 'core', '--json'], env(), { timeoutMs: 180_000 });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const before = await telegrafState();
    expect([before?.problem, before?.exitCode]).toEqual([undefined, 0]); // nothing dropped yet

    host = createHost({ kind: 'cli', quiet: true, dataDir });
    await callHost<TelemetryState>(host, 'telemetry.connect', {});
    const watched = await until('the broker connection, and the storage watched', async () => {
      const status = await callHost<TelemetryStatus>(host!, 'telemetry.status', {});
      return status.broker.state === 'connected' && status.storage !== undefined && status;
    });
    expect(watched.storage).toEqual({ state: 'ok', series: [] }); // the local stack's Telegraf: nothing lost

    const login = await host.deviceAccounts.ensure('loss-1'); // the board's own broker login
    const influx = (await host.stackCredentials.get('influxdb-admin'))!;
    const device = await mqtt.connectAsync('mqtt://127.0.0.1:1883', {
      username: login.username,
      password: login.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const publish = (line: string) => device.publishAsync('makerdeck/loss-1/telemetry', line, { qos: 1 });
    await publish('telemetry,device=loss-1 x=1i');
    expect(await stored(influx, 'loss-1', 'x', 1)).toEqual([1]); // x is an integer in InfluxDB now
    await publish('telemetry,device=loss-1 x=1.5');
    await publish('telemetry,device=loss-1 y=2.5');

    // The Stack page's (and the CLI's) view of Telegraf: dropping points, and why.
    const telegraf = await until('Telegraf reported as dropping points', async () => {
      const state = await telegrafState();
      return state?.problem ? state : undefined;
    });
    expect(telegraf.problem).toBe(
      'dropping points: field type conflict: x is integer, got float (fix: always send x as integer, or send it under a new field name)',
    );
    // Running and healthy by Docker's check, and still losing data: the status command fails.
    expect([telegraf.state, telegraf.health, telegraf.exitCode]).toEqual(['running', 'healthy', 1]);

    // The Telemetry page's: which series is not stored (the live chart has the float, InfluxDB does not).
    const storage = await until('the telemetry storage state flagging loss-1/x', async () => {
      const status = await callHost<TelemetryStatus>(host!, 'telemetry.status', {});
      return status.storage?.series.some((s) => s.device === 'loss-1') ? status.storage : undefined;
    });
    expect(storage).toEqual({
      state: 'dropping',
      message:
        'dropping points: field type conflict: x is integer, got float (fix: always send x as integer, or send it under a new field name)',
      lastAt: expect.any(Number),
      series: [
        {
          measurement: 'telemetry',
          field: 'x',
          device: 'loss-1',
          reason:
            'field type conflict: x is integer in InfluxDB, sent as float: those points are dropped; fix: always send x as integer, or send it under a new field name',
        },
      ],
    });
    const live = await callHost<TelemetryStatus>(host, 'telemetry.status', {});
    const card = live.devices.find((d) => d.device === 'loss-1');
    expect(card?.last.find((l) => l.field === 'x')?.v).toBe(1.5);

    // A different field keeps being stored; the refused float never is.
    expect(await stored(influx, 'loss-1', 'y', 1)).toEqual([2.5]);
    await publish('telemetry,device=loss-1 y=3.5');
    expect(await stored(influx, 'loss-1', 'y', 2)).toEqual([2.5, 3.5]);
    expect(await stored(influx, 'loss-1', 'x', 1)).toEqual([1]);

    // The real log line the parser read (kept in the unit test's fixtures).
    const logs = await runCli(['stack', 'logs', 'telegraf', '--tail', '50', '--json'], env());
    const lines = (JSON.parse(logs.stdout) as { lines: string[] }).lines;
    const conflict = lines.map(parseTelegrafLine).find((event) => event?.conflict);
    expect(conflict?.conflict, lines.join('\n')).toEqual({
      measurement: 'telemetry',
      field: 'x',
      stored: 'integer',
      got: 'float',
    });
    console.log(`telegraf's line: ${lines.find((line) => line.includes('field type conflict'))}`);
    await device.endAsync();
  }, 300_000);
});
