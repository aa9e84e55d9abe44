// The station on the local stack (the real RabbitMQ and the real Secret Service): every board plugged
// in is released with its own broker user, makerdeck-dev-<its seat's id>, created on the broker with
// its password in the keychain — never the template profile's login. Emulated Unos on a stand-in USB
// hub; a stand-in online checker reads each board's own telemetry line on its port.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabView, StationView } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { forgetFolders } from '../support/keychain';
import { SerialTelemetryStandIn } from '../support/serialTelemetryStandIn';
import { lockRealStack } from '../support/stackLock';
import { UsbHub } from '../support/usbHub';
import { callHost, until } from '../support/wait';

const MANAGEMENT = 'http://127.0.0.1:15672';
let scratch: string;
let env: NodeJS.ProcessEnv;
let hub: UsbHub;
let host: Host;
let unlock: (() => void) | undefined;

async function management(apiPath: string): Promise<Response> {
  const password = (await host.stackCredentials.get('rabbitmq-admin'))!;
  const auth = Buffer.from(`makerdeck:${password}`).toString('base64');
  return fetch(`${MANAGEMENT}${apiPath}`, { headers: { Authorization: `Basic ${auth}` } });
}

beforeAll(async () => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  unlock = await lockRealStack();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-station-stack-'));
  hub = new UsbHub(path.join(scratch, 'sys'));
  env = { MAKERDECK_DATA_DIR: path.join(scratch, 'data'), MAKERDECK_SYSFS_ROOT: hub.root };
  host = createHost({
    kind: 'cli',
    quiet: true,
    env: { ...process.env, ...env },
    onlineChecker: new SerialTelemetryStandIn(),
  });
  const up = await runCli(['stack', 'up', '--profile', 'core'], env, { timeoutMs: 240_000 });
  expect(up.code, up.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  host?.station.shutdown();
  await hub?.stopAll();
  if (scratch) {
    await runCli(['stack', 'reset', '--yes'], env, { timeoutMs: 60_000 });
    await forgetFolders([env.MAKERDECK_DATA_DIR!]);
    rmSync(scratch, { recursive: true, force: true });
  }
  unlock?.();
}, 120_000);

describe('the station on the local stack (real RabbitMQ and keychain; stand-in online checker)', () => {
  it("each board is released with its own broker user, not the template's login", async () => {
    const fields = { name: 'Stack template', board: 'arduino:avr:uno', mqttHost: '', deviceId: 'template' };
    await callHost(host, 'profiles.save', { fields: { ...fields, telemetryIntervalS: 1, mqttUsername: 'teacher' } });
    const lab = await callHost<LabView>(host, 'lab.create', {
      name: 'Stack lab',
      board: 'arduino:avr:uno',
      template: 'stack-template',
      idPattern: 'sl-{nn}',
      seats: 3,
    });
    expect((await management('/api/users/makerdeck-dev-sl-01')).status).toBe(404);
    await callHost(host, 'lab.stationStart', { lab: lab.id, parallel: 2, onlineTimeoutS: 30 });
    const plugged = await Promise.all([
      hub.plugUno(0, { serial: 'S-0' }, scratch),
      hub.plugUno(1, { serial: 'S-1' }, scratch),
    ]);
    await until(
      'both boards online',
      async () => {
        const view = await callHost<StationView>(host, 'lab.stationStatus', { lab: lab.id });
        return plugged.every((p) => view.ports.find((v) => v.port === p.port)?.phase === 'online');
      },
      240_000,
      200,
    );
    const seats = (await callHost<LabView>(host, 'lab.get', { lab: lab.id })).seats.filter((s) => s.state === 'online');
    expect(seats.map((s) => s.deviceId).sort()).toEqual(['sl-01', 'sl-02']);
    for (const { deviceId } of seats) {
      const login = await host.deviceAccounts.stored(deviceId);
      expect(login?.username).toBe(`makerdeck-dev-${deviceId}`);
      expect((await management(`/api/users/makerdeck-dev-${deviceId}`)).status).toBe(200);
    }
  }, 400_000);
});
