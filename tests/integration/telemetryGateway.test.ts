// The serial gateway on the emulated Uno (simavr running the rig's telemetry sketch): its lines are
// charted and published to a real broker (Mosquitto), stamped with their arrival time; while the
// broker is away they wait, and none is lost when it is back — counted by a separate subscriber.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUnoRig } from '../../scripts/rig/uno.js';
import { startMosquitto } from '../../scripts/services/mosquitto.js';
import type { SeriesPoints, TelemetryBatch, TelemetryState } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { parseLineProtocol } from '../../electron/core/lineProtocol';
import { requiredEnv } from '../support/env';
import { attachedBroker, callHost, until } from '../support/wait';
import { startUno, type EmulatedUno } from '../support/uno';

let scratch: string;
let broker: Awaited<ReturnType<typeof startMosquitto>>;
let uno: EmulatedUno;
let host: Host;
const charted: number[] = [];
const states: TelemetryState[] = [];

const call = <T>(name: string, args: unknown) => callHost<T>(host, name, args);

/** The board's retained status on the broker, as a newcomer subscribing to its topic gets it. */
async function retainedStatus(): Promise<string | undefined> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  const said = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(`${payload}`)));
  await client.subscribeAsync('makerdeck/uno-test/status', { qos: 1 });
  const status = await Promise.race([said, new Promise<undefined>((resolve) => setTimeout(resolve, 500))]);
  await client.endAsync();
  return status;
}

beforeAll(async () => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-gateway-'));
  broker = await startMosquitto({ dir: path.join(scratch, 'broker'), persistence: true });
  uno = await startUno(path.join(scratch, 'uno'));
  host = createHost({ kind: 'cli', quiet: true, dataDir: path.join(scratch, 'data') });
  host.bus.on('telemetry.batch', (batch: TelemetryBatch) =>
    charted.push(...batch.series.filter((s) => s.device === 'uno-test' && s.field === 'counter').flatMap((s) => s.v)),
  );
  host.bus.on('telemetry.state', (state) => states.push(state));
  await call('environment.set', attachedBroker(broker.url));
}, 60_000);

afterAll(async () => {
  await host?.call('telemetry.gatewayStop', {});
  await host?.call('telemetry.disconnect', {});
  await uno?.stop();
  await broker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the serial gateway on the emulated Uno (real broker: Mosquitto)', () => {
  it('charts and publishes the board, queueing while the broker is away; the broker delivers every line', async () => {
    const { testHex } = await buildUnoRig();
    await uno.stop();
    uno = await startUno(path.join(scratch, 'uno2'), testHex);
    // Counted on the far side of the broker: a subscriber of its own with a persistent session (clean
    // session off, QoS 1), so what the broker owes it waits across the restart. Time (ms) → counter.
    const delivered = new Map<number, number>();
    const session = { clientId: `gateway-watcher-${process.pid}`, clean: false, reconnectPeriod: 250 };
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...session });
    await watcher.subscribeAsync('makerdeck/uno-test/telemetry', { qos: 1 });
    watcher.on('message', (_topic, payload) => {
      const parsed = parseLineProtocol(payload.toString());
      if (!parsed.ok) return;
      delivered.set(Number(parsed.point.timestamp!.slice(0, -6)), parsed.point.fields.get('counter') as number);
    });

    await call('telemetry.connect', {});
    await call('telemetry.gatewayStart', { port: uno.pty, baudRate: 115200 });
    await until('points from the board on the broker', () => delivered.size >= 5);
    await until('the same points on the chart', () => charted.length >= 5);
    // The gateway gives the board what the firmware gives a Wi-Fi board: a retained "online" and a
    // retained last will "offline", on a connection of its own.
    await until('the board retained as online', async () => (await retainedStatus()) === 'online');

    await broker.stop(); // the broker goes away; the board keeps printing
    const lastBefore = Math.max(...delivered.values());
    await until('lines queued while the broker is away', () => (states.at(-1)?.gateway?.queued ?? 0) >= 5);
    broker = await startMosquitto({ dir: path.join(scratch, 'broker'), port: broker.port, persistence: true });
    await until(
      'the queue sent after the restart',
      () => states.at(-1)?.broker.state === 'connected' && states.at(-1)?.gateway?.queued === 0,
      30_000,
    );
    const resumeAt = charted.length;
    await until('new points after the restart', () => charted.length > resumeAt + 3);

    // Everything the board printed was charted once, in order.
    const counters = [...charted];
    expect(counters).toEqual(Array.from({ length: counters.length }, (_, i) => counters[0]! + i));
    expect(counters.some((c) => c > lastBefore + 5)).toBe(true);
    // Stopped, the gateway has handed the broker all it charted: the host's window of the series.
    await call('telemetry.gatewayStop', {});
    expect(await retainedStatus()).toBe('offline');
    const counter = [{ device: 'uno-test', field: 'counter' }];
    const everything = { series: counter, from: 0, to: Date.now() + 60_000 };
    const [series] = await call<SeriesPoints[]>('telemetry.window', everything);
    const sent = new Map(series!.t.map((t, i) => [t, series!.v[i]!]));
    expect(sent.size).toBeGreaterThanOrEqual(counters.length);
    // …and the broker delivered every one of them, the queued ones too, and nothing else.
    // (a timeout here falls through to the comparison, which names the missing lines)
    const allDelivered = () => [...sent.keys()].every((t) => delivered.has(t));
    await until('every line the gateway sent, delivered by the broker', allDelivered, 30_000).catch(() => undefined);
    expect(delivered).toEqual(sent);
    await watcher.endAsync();
    // What reached the broker carries the time the gateway charted it.
    const first = Math.min(...delivered.keys());
    const window = await call<SeriesPoints[]>('telemetry.window', { series: counter, from: first, to: first + 1 });
    expect(window[0]!.v).toEqual([delivered.get(first)]);
  }, 90_000);
});
