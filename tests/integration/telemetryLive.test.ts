// Live telemetry through the real core against a real broker (Debian's Mosquitto, started here on
// 127.0.0.1 and stopped by its PID): batching, rejects, and a broker that goes away and comes back.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto } from '../../scripts/services/mosquitto.js';
import type { SeriesPoints, TelemetryBatch, TelemetryState, TelemetryStatus } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { runCli } from '../support/cli';
import { repoRoot, requiredEnv } from '../support/env';
import { attachedBroker, callHost, until } from '../support/wait';

let scratch: string;
let broker: Awaited<ReturnType<typeof startMosquitto>>;
let host: Host;
const batches: TelemetryBatch[] = [];
const states: TelemetryState[] = [];

const call = <T>(name: string, args: unknown) => callHost<T>(host, name, args);

const received = (device: string, field: string) =>
  batches.flatMap((b) => b.series.filter((s) => s.device === device && s.field === field).flatMap((s) => s.v));
const publisher = (url = broker.url) =>
  mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });

beforeAll(async () => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-telemetry-'));
  broker = await startMosquitto({ dir: path.join(scratch, 'broker') });
  host = createHost({ kind: 'cli', quiet: true, dataDir: path.join(scratch, 'data') });
  host.bus.on('telemetry.batch', (batch) => batches.push(batch));
  host.bus.on('telemetry.state', (state) => states.push(state));
  await call('environment.set', attachedBroker(broker.url));
}, 30_000);

afterAll(async () => {
  await host?.call('telemetry.disconnect', {});
  await broker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('live telemetry from a real broker (Mosquitto)', () => {
  it('charts points from makerdeck/+/telemetry in batches, not one event per message', async () => {
    await call('telemetry.connect', {});
    await until('connected', () => states.at(-1)?.broker.state === 'connected');
    const client = await publisher();
    await client.publishAsync('makerdeck/bench-1/status', 'online', { retain: true });
    for (let i = 0; i < 2000; i++)
      client.publish('makerdeck/bench-1/telemetry', `telemetry,device=bench-1 seq=${i}i,temp_c=${20 + (i % 10) / 10}`);
    await until('all 2000 points', () => received('bench-1', 'seq').length === 2000);
    await client.endAsync();
    expect(received('bench-1', 'seq')).toEqual(Array.from({ length: 2000 }, (_, i) => i)); // in order, none lost
    expect(batches.length).toBeLessThan(200);
    const status = await call<TelemetryStatus>('telemetry.status', {});
    const last = expect.arrayContaining([expect.objectContaining({ field: 'seq', v: 1999 })]);
    const bench = status.devices.find((d) => d.device === 'bench-1');
    expect(bench).toMatchObject({ status: 'online', source: 'mqtt', last });
    expect(status.accepted).toBe(2000);
  });

  it('counts a flood of malformed, huge, binary and hostile payloads as rejected and stays responsive', async () => {
    const before = (await call<TelemetryStatus>('telemetry.status', {})).rejected;
    const client = await publisher();
    const hostile = [
      Buffer.from([0, 1, 2, 255, 254, 0]), // binary
      Buffer.alloc(100 * 1024, 'x'), // huge
      Buffer.from('telemetry,device=x temp_c=not-a-number'),
      Buffer.from('telemetry,device=x'), // no fields
      Buffer.from('"; DROP TABLE telemetry; --'),
      Buffer.from('telemetry temp_c=1 12345678901234567890123'), // timestamp too long
    ];
    const flood = 3000;
    for (let i = 0; i < flood; i++) client.publish('makerdeck/evil-1/telemetry', hostile[i % hostile.length]!);
    client.publish('makerdeck/evil-1/telemetry', 'telemetry,device=evil-1 ok=1i');
    await until('the valid point after the flood', () => received('evil-1', 'ok').length === 1, 10_000);
    await client.endAsync();
    const status = await call<TelemetryStatus>('telemetry.status', {});
    expect(status.rejected - before).toBe(flood);
    expect(status.recentRejects.at(-1)).toMatchObject({
      topic: 'makerdeck/evil-1/telemetry',
      reason: expect.any(String),
    });
    expect(status.recentRejects.every((r) => /^[\x20-\x7e]*$/.test(r.sample) && r.sample.length <= 80)).toBe(true);
  });

  it('says the broker is gone, reconnects by itself when it is back, and keeps the points it had', async () => {
    const client = await publisher();
    await client.publishAsync('makerdeck/restart-1/telemetry', 'telemetry,device=restart-1 n=1i');
    await client.endAsync();
    await until('the first point', () => received('restart-1', 'n').length === 1);
    await broker.stop();
    await until('reconnecting', () => states.at(-1)?.broker.state === 'reconnecting');
    expect(states.at(-1)?.broker.message).toMatch(/Nothing answers at the broker address|closed the connection/);
    broker = await startMosquitto({ dir: path.join(scratch, 'broker'), port: broker.port });
    await until('connected again', () => states.at(-1)?.broker.state === 'connected', 20_000);
    const again = await publisher();
    await again.publishAsync('makerdeck/restart-1/telemetry', 'telemetry,device=restart-1 n=2i');
    await again.endAsync();
    await until('the point after the restart', () => received('restart-1', 'n').length === 2);
    const window = await call<SeriesPoints[]>('telemetry.window', {
      series: [{ device: 'restart-1', field: 'n' }],
      from: Date.now() - 60_000,
      to: Date.now() + 1000,
    });
    expect(window[0]!.v).toEqual([1, 2]);
  }, 40_000);

  it('gives up a connect the broker never answers within the timeout, and says what to try', async () => {
    // A socket that accepts and never speaks: what an old RabbitMQ does to an MQTT 5 CONNECT.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `mqtt://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      await call('environment.set', attachedBroker(url));
      await call('telemetry.connect', { protocolVersion: 5, connectTimeoutMs: 1000 });
      await until('the timeout', () => states.at(-1)?.broker.state === 'reconnecting', 5000);
      expect(states.at(-1)?.broker.message).toMatch(/did not answer the connect within 1 s: .*MQTT 5 — choose 3\.1\.1/);
    } finally {
      await call('telemetry.disconnect', {});
      silent.close();
    }
  });
});

describe('makerdeck telemetry tail', () => {
  it('prints the points published to the broker, parsed, one JSON object per point, until Ctrl+C', async () => {
    const env = { ...process.env, MAKERDECK_DATA_DIR: path.join(scratch, 'cli-data') };
    const attached = await runCli(
      ['env', 'attach', '--mqtt-url', broker.url, '--influx-url', 'http://127.0.0.1:9', '--influx-db', 'makerdeck'],
      env,
    );
    expect(attached.code, attached.stderr).toBe(0);
    const tail = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin', 'makerdeck.js'), 'telemetry', 'tail', '--device', 'cli-1', '--json'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    tail.stdout.on('data', (chunk) => (stdout += chunk));
    tail.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => tail.once('exit', resolve));
    await until('connected', () => stderr.includes(': connected'));
    const client = await publisher();
    await client.publishAsync(
      'makerdeck/cli-1/telemetry',
      'telemetry,device=cli-1 temp_c=21.5,seq=1i 1764150000000000000',
    );
    await client.publishAsync('makerdeck/other/telemetry', 'telemetry,device=other temp_c=99');
    await client.publishAsync(
      'makerdeck/cli-1/telemetry',
      'telemetry,device=cli-1 temp_c=21.75,seq=2i 1764150001000000000',
    );
    await client.endAsync();
    await until('two points printed', () => stdout.split('\n').filter(Boolean).length >= 2);
    tail.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { time: '2025-11-26T09:40:00.000Z', t: 1764150000000, device: 'cli-1', fields: { temp_c: 21.5, seq: 1 } },
      { time: '2025-11-26T09:40:01.000Z', t: 1764150001000, device: 'cli-1', fields: { temp_c: 21.75, seq: 2 } },
    ]);
  }, 30_000);

  it('reports each rejected payload with its reason: a line in text mode, a {"type":"rejected"} object in --json', async () => {
    const env = { ...process.env, MAKERDECK_DATA_DIR: path.join(scratch, 'cli-data') };
    const tails = [[], ['--json']].map((json) => {
      const child = spawn(
        process.execPath,
        [path.join(repoRoot, 'bin', 'makerdeck.js'), 'telemetry', 'tail', ...json],
        {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const out = {
        stdout: '',
        stderr: '',
        exited: new Promise<number | null>((resolve) => child.once('exit', resolve)),
      };
      child.stdout.on('data', (chunk) => (out.stdout += chunk));
      child.stderr.on('data', (chunk) => (out.stderr += chunk));
      return { child, out };
    });
    await until('both connected', () => tails.every(({ out }) => out.stderr.includes(': connected')));
    const client = await publisher();
    await client.publishAsync('makerdeck/rej-1/telemetry', 'telemetry,device=rej-1 temp_c=hot');
    await client.publishAsync('makerdeck/rej-1/telemetry', Buffer.from([0x74, 0x00, 0x01]));
    await client.endAsync();
    const [text, json] = tails.map(({ out }) => out);
    await until('two rejects in each', () => text!.stdout.includes('binary data') && json!.stdout.includes('binary'));
    for (const { child } of tails) child.kill('SIGINT');
    for (const { out } of tails) expect(await out.exited).toBe(0);
    const textLines = text!.stdout.trim().split('\n');
    expect(textLines).toHaveLength(2);
    expect(textLines[0]).toMatch(
      /^\S+Z {2}rejected {2}makerdeck\/rej-1\/telemetry: .+ {2}\(telemetry,device=rej-1 temp_c=hot\)$/,
    );
    expect(textLines[1]).toMatch(/^\S+Z {2}rejected {2}makerdeck\/rej-1\/telemetry: binary data, not line protocol/);
    const objects = json!.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(objects).toEqual([
      expect.objectContaining({ type: 'rejected', topic: 'makerdeck/rej-1/telemetry', reason: expect.any(String) }),
      expect.objectContaining({ type: 'rejected', reason: 'binary data, not line protocol', sample: 't..' }),
    ]);
  }, 30_000);
});
