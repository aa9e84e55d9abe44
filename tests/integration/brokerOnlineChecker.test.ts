// The station's closed loop against a real broker (Debian's Mosquitto, started and stopped here) and
// the emulated Uno (simavr, the rig's telemetry sketch, device id uno-test): a board is online at its
// first point under its own id on its own topic, never at another id's; a broker down mid-wait is
// named, and the wait ends online when it is back in time; the Uno's gateway logs in as the device.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUnoRig } from '../../scripts/rig/uno.js';
import { startMosquitto } from '../../scripts/services/mosquitto.js';
import type { MonitorLines, MonitorState } from '../../electron/contract';
import { BrokerOnlineChecker } from '../../electron/core/lab/brokerOnlineChecker';
import type { OnlineWait } from '../../electron/core/lab/onlineCheck';
import { SerialMonitor } from '../../electron/core/serial/monitor';
import { startUno, type EmulatedUno } from '../support/uno';
import { until } from '../support/wait';

const ADMIN = { username: 'lab-admin', password: 'admin-Qx81vLm' };
const DEVICE = { username: 'makerdeck-dev-uno-test', password: 'device-Hc37pWd' };
const users = { [ADMIN.username]: ADMIN.password, [DEVICE.username]: DEVICE.password };

let scratch: string;
let broker: Awaited<ReturnType<typeof startMosquitto>>;
let uno: EmulatedUno | undefined;
let checker: BrokerOnlineChecker;
const monitorEvents: { lines(batch: MonitorLines): void; state(state: MonitorState): void } = {
  lines: (batch) => checker.monitorLines(batch),
  state: (state) => checker.monitorState(state),
};
const monitor = new SerialMonitor(monitorEvents);

function newChecker(device = DEVICE): BrokerOnlineChecker {
  return new BrokerOnlineChecker({
    broker: async () => ({ url: broker.url, ...ADMIN }),
    deviceLogin: async (id) => (id === 'uno-test' ? device : undefined),
    monitor,
  });
}

/** Starts a wait and records what it says. */
function startWait(args: Partial<OnlineWait> & { deviceId: string }) {
  const said: string[] = [];
  const abort = new AbortController();
  let result: string | undefined;
  const done = checker
    .wait({
      port: '/dev/makerdeck-no-port',
      board: 'esp32',
      timeoutMs: 60_000,
      signal: abort.signal,
      onWait: (message) => said.push(message),
      ...args,
    })
    .then(
      (value) => (result = value),
      (error: Error) => (result = `error: ${error.message}`),
    );
  return { said, abort, done, result: () => result };
}

/** A stand-in for an ESP board's own publish (an MQTT client of the test's). */
async function publisher(): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, { ...ADMIN, protocolVersion: 4, reconnectPeriod: 0 });
}

/** Everything published under makerdeck/#, as "topic payload", seen by a watcher of the test's own. */
async function watchBroker(): Promise<{ seen: string[]; client: MqttClient }> {
  const client = await mqtt.connectAsync(broker.url, { ...ADMIN, protocolVersion: 4, reconnectPeriod: 0 });
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload}`));
  await client.subscribeAsync('makerdeck/#', { qos: 1 });
  return { seen, client };
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-online-'));
  broker = await startMosquitto({ dir: path.join(scratch, 'broker'), users });
  checker = newChecker();
}, 60_000);

afterAll(async () => {
  await checker?.close();
  await monitor.closeAll();
  await uno?.stop();
  await broker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the online check on a real broker (Mosquitto)', () => {
  it("counts only the board's own id on its own topic (a stand-in ESP publisher)", async () => {
    const esp = startWait({ deviceId: 'esp-own' });
    const probe = startWait({ deviceId: 'esp-probe' });
    await until('the check connected', () => esp.said.at(-1)?.startsWith('waiting for the first telemetry of'));
    const client = await publisher();
    // Another id on its topic, its id on another topic, a malformed payload: none of them counts.
    await client.publishAsync('makerdeck/esp-own/telemetry', 'telemetry,device=esp-other t=1i', { qos: 1 });
    await client.publishAsync('makerdeck/esp-other/telemetry', 'telemetry,device=esp-own t=1i', { qos: 1 });
    await client.publishAsync('makerdeck/esp-own/telemetry', 'telemetry,device=esp-own', { qos: 1 });
    // Published after those on the same connection: once the probe is online, they were all read.
    await client.publishAsync('makerdeck/esp-probe/telemetry', 'telemetry,device=esp-probe t=1i', { qos: 1 });
    await until('the probe online', () => probe.result());
    expect(probe.result()).toBe('online');
    expect(esp.result()).toBeUndefined();
    await client.publishAsync('makerdeck/esp-own/telemetry', 'telemetry,device=esp-own t=2i\n', { qos: 1 });
    await until('the board online', () => esp.result());
    expect(esp.result()).toBe('online');
    expect(esp.said).toEqual([
      'waiting for the broker: connecting',
      'waiting for the first telemetry of esp-own on makerdeck/esp-own/telemetry',
    ]);
    await client.endAsync();
  });

  it('is silent after the timeout, and a cancelled wait says so', async () => {
    const silent = startWait({ deviceId: 'esp-quiet', timeoutMs: 300 });
    const cancelled = startWait({ deviceId: 'esp-gone' });
    cancelled.abort.abort();
    await Promise.all([silent.done, cancelled.done]);
    expect(silent.result()).toBe('silent');
    expect(cancelled.result()).toBe('error: The online check of esp-gone was cancelled');
  });

  it('names the broker that is down mid-wait, and ends online when it is back in time', async () => {
    const esp = startWait({ deviceId: 'esp-late' });
    await until('the check connected', () => esp.said.at(-1)?.startsWith('waiting for the first telemetry of'));
    await broker.stop();
    const down = `waiting for the broker at 127.0.0.1:${broker.port}: connection refused`;
    await until('the wait saying why', () => esp.said.includes(down));
    // The wait goes on while the broker is away (several retries).
    expect(esp.result()).toBeUndefined();
    broker = await startMosquitto({ dir: path.join(scratch, 'broker'), port: broker.port, users });
    await until('the check connected again', () => esp.said.at(-1)?.startsWith('waiting for the first telemetry'));
    const client = await publisher();
    await client.publishAsync('makerdeck/esp-late/telemetry', 'telemetry,device=esp-late t=1i', { qos: 1 });
    await until('the board online', () => esp.result(), 10_000);
    expect(esp.result()).toBe('online');
    await client.endAsync();
  }, 60_000);

  it('starts waiting with the broker down from the start, and says so', async () => {
    await checker.close();
    await broker.stop();
    checker = newChecker();
    const esp = startWait({ deviceId: 'esp-early', timeoutMs: 4000 });
    await until('the wait saying why', () =>
      esp.said.includes(`waiting for the broker at 127.0.0.1:${broker.port}: connection refused`),
    );
    await esp.done;
    expect(esp.result()).toBe('silent');
    broker = await startMosquitto({ dir: path.join(scratch, 'broker'), port: broker.port, users });
  }, 30_000);

  it("the emulated Uno's gateway publishes its own id, logged in as the device; another id stays silent", async () => {
    const { testHex } = await buildUnoRig();
    uno = await startUno(path.join(scratch, 'uno'), testHex);
    await checker.close();
    checker = newChecker();
    const watch = await watchBroker();
    // A seat expecting another id on this board: its lines are not forwarded, the wait ends silent.
    const wrong = startWait({ deviceId: 'uno-other', board: 'uno', port: uno.pty, timeoutMs: 5000 });
    await wrong.done;
    expect(wrong.result()).toBe('silent');
    expect(wrong.said.at(-1)).toBe(
      'waiting for the first telemetry of uno-other on makerdeck/uno-other/telemetry (through the gateway on ' +
        `${uno.pty}, publishing as the environment's login (uno-other has no device login in the keychain))`,
    );
    expect(watch.seen.filter((m) => m.includes('/telemetry '))).toEqual([]);

    const own = startWait({ deviceId: 'uno-test', board: 'uno', port: uno.pty });
    await until('the Uno online', () => own.result(), 60_000).catch((error: Error) => {
      throw new Error(
        `${error.message}; the wait said: ${own.said.join(' | ')}; the broker: ${watch.seen.join(' | ')}`,
      );
    });
    expect(own.result()).toBe('online');
    expect(own.said).toContain(
      'waiting for the first telemetry of uno-test on makerdeck/uno-test/telemetry ' +
        `(through the gateway on ${uno.pty}, publishing as makerdeck-dev-uno-test)`,
    );
    // The gateway stays after the wait: the board keeps reaching the broker, on its own topic only.
    await until('three points on the broker', () => watch.seen.filter((m) => m.includes('/telemetry ')).length >= 3);
    const telemetry = watch.seen.filter((m) => m.includes('/telemetry '));
    expect(telemetry.every((m) => m.startsWith('makerdeck/uno-test/telemetry telemetry,device=uno-test '))).toBe(true);
    expect(watch.seen).toContain('makerdeck/uno-test/status online');
    // close() ends the gateway (retained offline) and the connection.
    await checker.close();
    await until('the board marked offline', () => watch.seen.includes('makerdeck/uno-test/status offline'));
    await watch.client.endAsync();
  }, 120_000);

  it("says so when the broker refuses the device's own login, and ends silent", async () => {
    checker = newChecker({ ...DEVICE, password: 'rotated-elsewhere' });
    const watch = await watchBroker();
    const refused = startWait({ deviceId: 'uno-test', board: 'uno', port: uno!.pty, timeoutMs: 8000 });
    await refused.done;
    expect(refused.result()).toBe('silent');
    expect(refused.said.at(-1)).toMatch(
      /^waiting for the first telemetry of uno-test on makerdeck\/uno-test\/telemetry \(the gateway: the broker refused the login makerdeck-dev-uno-test \(.+\)\)$/,
    );
    expect(watch.seen.filter((m) => m.includes('/telemetry '))).toEqual([]);
    await watch.client.endAsync();
  }, 60_000);
});
