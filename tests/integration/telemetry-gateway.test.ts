// The serial gateway on the emulated Uno (simavr running the rig's telemetry sketch): its lines are
// charted and published to a real broker (Mosquitto), stamped with their arrival time; while the
// broker is away they wait, and none is lost when it is back.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUnoRig } from '../../scripts/rig/uno.js';
import { startMosquitto } from '../../scripts/services/mosquitto.js';
import type { TelemetryBatch, TelemetryState } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { parseLineProtocol } from '../../electron/core/lineProtocol';
import { requiredEnv } from '../support/env';
import { callHost, until } from '../support/wait';
import { startUno, type EmulatedUno } from '../support/uno';

let scratch: string;
let broker: Awaited<ReturnType<typeof startMosquitto>>;
let uno: EmulatedUno;
let host: Host;
const charted: number[] = [];
const states: TelemetryState[] = [];

const call = <T>(name: string, args: unknown) => callHost<T>(host, name, args);

beforeAll(async () => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-gateway-'));
  broker = await startMosquitto({ dir: path.join(scratch, 'broker') });
  uno = await startUno(path.join(scratch, 'uno'));
  host = createHost({ kind: 'cli', quiet: true, dataDir: path.join(scratch, 'data') });
  host.bus.on('telemetry.batch', (batch: TelemetryBatch) =>
    charted.push(...batch.series.filter((s) => s.device === 'uno-test' && s.field === 'counter').flatMap((s) => s.v)),
  );
  host.bus.on('telemetry.state', (state) => states.push(state));
  await call('environment.set', {
    environment: {
      kind: 'attached',
      mqttUrl: broker.url,
      influxUrl: 'http://127.0.0.1:9',
      influxDatabase: 'makerdeck',
    },
  });
}, 60_000);

afterAll(async () => {
  await host?.call('telemetry.gatewayStop', {});
  await host?.call('telemetry.disconnect', {});
  await uno?.stop();
  await broker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the serial gateway on the emulated Uno (real broker: Mosquitto)', () => {
  it('charts the board and publishes its lines, queueing them while the broker is away', async () => {
    const { testHex } = await buildUnoRig();
    await uno.stop();
    uno = await startUno(path.join(scratch, 'uno2'), testHex);
    const published: Array<{ counter: number; t: number }> = [];
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    await watcher.subscribeAsync('makerdeck/uno-test/telemetry');
    watcher.on('message', (_topic, payload) => {
      const parsed = parseLineProtocol(payload.toString());
      if (!parsed.ok) return;
      const counter = parsed.point.fields.get('counter') as number;
      published.push({ counter, t: Number(parsed.point.timestamp!.slice(0, -6)) });
    });

    await call('telemetry.connect', {});
    await call('telemetry.gatewayStart', { port: uno.pty, baudRate: 115200 });
    await until('points from the board on the broker', () => published.length >= 5);
    await until('the same points on the chart', () => charted.length >= 5);

    await broker.stop(); // the broker goes away; the board keeps printing
    const lastBefore = published.at(-1)!.counter;
    await until('lines queued while the broker is away', () => (states.at(-1)?.gateway?.queued ?? 0) >= 5);
    broker = await startMosquitto({ dir: path.join(scratch, 'broker'), port: broker.port });
    await until(
      'the queue sent after the restart',
      () => states.at(-1)?.broker.state === 'connected' && states.at(-1)?.gateway?.queued === 0,
      30_000,
    );
    await until('the watcher back on the broker', () => watcher.connected, 15_000);
    await watcher.subscribeAsync('makerdeck/uno-test/telemetry');
    const resumeAt = charted.length;
    await until('new points after the restart', () => charted.length > resumeAt + 3);
    await watcher.endAsync();

    // Everything the board printed was charted once, in order.
    const counters = [...charted];
    expect(counters).toEqual(Array.from({ length: counters.length }, (_, i) => counters[0]! + i));
    expect(counters.some((c) => c > lastBefore + 5)).toBe(true);
    // …and every line it charted went to the broker, the queued ones too.
    const { gateway } = await call<TelemetryState>('telemetry.status', {});
    expect(gateway!.queued).toBe(0);
    expect(Math.abs(gateway!.published - counters.length)).toBeLessThanOrEqual(2); // a line or two in flight
    // What reached the broker carries the time the gateway charted it.
    const first = published[0]!;
    const window = await call<Array<{ t: number[]; v: number[] }>>('telemetry.window', {
      series: [{ device: 'uno-test', field: 'counter' }],
      from: first.t,
      to: first.t + 1,
    });
    expect(window[0]!.v).toEqual([first.counter]);
  }, 90_000);
});
