// Resetting a lab on the real stack (the rig's RabbitMQ, Telegraf and InfluxDB 1.8, the real Secret
// Service): three seats with their own broker users and points sent under their own logins are
// gone after `makerdeck lab reset --drop-data`, another device's user and points stay, and the
// summary names exactly what was removed. With the stack down (or InfluxDB down, data asked), the
// reset refuses in one line and changes nothing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabResetSummary, LabView } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { LabStore } from '../../electron/core/lab/labStore';
import { FolderLock } from '../../electron/core/settings/folderLock';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { folderSecrets, forgetFolders } from '../support/keychain';
import { lockRealStack } from '../support/stackLock';
import { until } from '../support/wait';

const MANAGEMENT = 'http://127.0.0.1:15672';
const SEATS = ['rl-01', 'rl-02', 'rl-03'];
const OTHER = 'rl-other';
let dataDir: string;
let host: Host;
let store: LabStore;
let unlock: (() => void) | undefined;
const env = () => ({ MAKERDECK_DATA_DIR: dataDir });
const cli = (args: string[], timeoutMs = 60_000) => runCli(args, env(), { timeoutMs });
const labFile = () => readFileSync(path.join(dataDir, 'labs', 'reset-lab.json'), 'utf8');

function basic(username: string, password: string) {
  return { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

async function brokerUserStatus(username: string): Promise<number> {
  const password = (await host.stackCredentials.get('rabbitmq-admin'))!;
  const response = await fetch(`${MANAGEMENT}/api/users/${username}`, { headers: basic('makerdeck', password) });
  return response.status;
}

/** Points per device in InfluxDB (count of field t). */
async function pointsByDevice(): Promise<Record<string, number>> {
  const url = new URL('http://127.0.0.1:8086/query');
  url.searchParams.set('db', 'makerdeck');
  url.searchParams.set('q', 'SELECT count("t") FROM "telemetry" GROUP BY "device"');
  const password = (await host.stackCredentials.get('influxdb-admin'))!;
  const response = await fetch(url, { headers: basic('makerdeck', password) });
  const body = (await response.json()) as {
    results: Array<{ series?: Array<{ tags: { device: string }; values: Array<[string, number]> }> }>;
  };
  return Object.fromEntries((body.results[0]?.series ?? []).map((s) => [s.tags.device, s.values[0]![1]]));
}

/** Device logins this data folder keeps in the keychain. */
async function deviceEntries(): Promise<string[]> {
  return Object.keys(await folderSecrets(dataDir))
    .filter((account) => account.startsWith('device/'))
    .sort();
}

beforeAll(async () => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  unlock = await lockRealStack();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-labreset-'));
  host = createHost({ kind: 'cli', quiet: true, dataDir });
  store = new LabStore(dataDir, new FolderLock(dataDir));
}, 600_000);

afterAll(async () => {
  await runCli(['stack', 'reset', '--yes'], env(), { timeoutMs: 60_000 });
  await forgetFolders([dataDir]);
  rmSync(dataDir, { recursive: true, force: true });
  unlock?.();
}, 90_000);

describe('lab reset on the real RabbitMQ, Secret Service and InfluxDB 1.8', () => {
  it('removes the seats’ users, keychain entries and points, and nothing of another device', async () => {
    const up = await cli(['stack', 'up', '--profile', 'core', '--json'], 180_000);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const profile = await cli(['profile', 'set', 'Class Template', '--board', 'arduino:avr:uno', '--device-id', 'tpl']);
    expect(profile.code, profile.stderr).toBe(0);
    const created = await cli([
      ...['lab', 'create', 'Reset Lab', '--board', 'arduino:avr:uno', '--template', 'class-template'],
      ...['--id-pattern', 'rl-{nn}', '--seats', '4', '--json'],
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect((JSON.parse(created.stdout) as LabView).seats.map((s) => s.deviceId)).toEqual([...SEATS, 'rl-04']);

    // Three seats released (their broker users made as the release step makes them) and online; one free.
    for (const [index, id] of [...SEATS, OTHER].entries()) {
      const login = await host.deviceAccounts.ensure(id);
      const board = await mqtt.connectAsync('mqtt://127.0.0.1:1883', {
        username: login.username,
        password: login.password,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      await board.publishAsync(`makerdeck/${id}/telemetry`, `telemetry,device=${id} t=${index + 20}.5`, { qos: 1 });
      await board.endAsync();
      if (id === OTHER) continue;
      const identity = { kind: 'usb-serial' as const, key: `usb:2341:0043:S${index}`, usbSerial: `S${index}` };
      await store.setSeat('reset-lab', id, { state: 'online', identity, port: `/dev/ttyACM${index}`, buildHash: 'b1' });
      await store.appendLog('reset-lab', {
        ...{ time: new Date().toISOString(), port: `/dev/ttyACM${index}`, identity: 'usb-serial', deviceId: id },
        ...{ result: 'online', seconds: 12 },
      });
    }
    const stored = await until(
      'every device’s point in InfluxDB',
      async () => {
        const points = await pointsByDevice().catch(() => ({}) as Record<string, number>);
        return [...SEATS, OTHER].every((id) => (points[id] ?? 0) > 0) && points;
      },
      40_000,
      250,
    );
    expect(Object.keys(stored).sort()).toEqual([...SEATS, OTHER].sort());
    expect(await deviceEntries()).toEqual([...SEATS, OTHER].map((id) => `device/${id}/mqtt-password`).sort());

    // A wrong confirmation changes nothing.
    const before = labFile();
    const wrong = await cli(['lab', 'reset', 'reset-lab', '--drop-data', '--confirm', 'Other Lab', '--json']);
    expect([wrong.code, JSON.parse(wrong.stdout).error]).toEqual([
      2,
      { code: 'BAD_INPUT', message: 'To reset Reset Lab, type its name "Reset Lab" to confirm' },
    ]);
    expect(labFile()).toBe(before);

    const reset = await cli(['lab', 'reset', 'reset-lab', '--drop-data', '--confirm', 'Reset Lab', '--json']);
    expect(reset.code, reset.stdout + reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout) as LabResetSummary).toEqual({
      lab: 'Reset Lab',
      brokerUsers: SEATS.map((id) => `makerdeck-dev-${id}`),
      keychainEntries: 3,
      data: 'dropped',
      buildsKept: true,
      seatsFreed: 3,
      logKept: 3,
    });
    for (const id of SEATS) expect(await brokerUserStatus(`makerdeck-dev-${id}`)).toBe(404);
    expect(await brokerUserStatus(`makerdeck-dev-${OTHER}`)).toBe(200);
    expect(await deviceEntries()).toEqual([`device/${OTHER}/mqtt-password`]);
    expect(await pointsByDevice()).toEqual({ [OTHER]: 1 });
    // The other device's login still works on the broker.
    const other = (await host.deviceAccounts.stored(OTHER))!;
    await (await mqtt.connectAsync('mqtt://127.0.0.1:1883', { ...other, reconnectPeriod: 0 })).endAsync();

    const status = await cli(['lab', 'status', 'reset-lab', '--json']);
    const lab = JSON.parse(status.stdout) as LabView;
    expect(lab.seats).toEqual(
      [...SEATS, 'rl-04'].map((id, i) => ({ seat: String(i + 1), deviceId: id, state: 'free' })),
    );
    expect(JSON.parse((await cli(['lab', 'log', 'reset-lab', '--json'])).stdout)).toHaveLength(3);

    // A second reset finds nothing left to remove.
    const again = await cli(['lab', 'reset', 'reset-lab', '--confirm', 'reset-lab', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({
      brokerUsers: [],
      keychainEntries: 0,
      data: 'kept',
      seatsFreed: 0,
    });
  }, 400_000);

  it('refuses with InfluxDB down (data asked) or the stack down, and changes nothing', async () => {
    await host.deviceAccounts.ensure('rl-01');
    await store.setSeat('reset-lab', 'rl-01', { state: 'failed', reason: 'unplugged', port: '/dev/ttyACM0' });
    const before = labFile();
    const entries = await deviceEntries();
    expect(entries).toContain('device/rl-01/mqtt-password');

    const stopped = await cli(['stack', 'stop', 'influxdb'], 120_000);
    expect(stopped.code, stopped.stderr).toBe(0);
    const noInflux = await cli(['lab', 'reset', 'reset-lab', '--drop-data', '--confirm', 'Reset Lab', '--json']);
    expect(noInflux.code).toBe(3);
    expect(JSON.parse(noInflux.stdout).error.message).toMatch(
      /^InfluxDB at http:\/\/127\.0\.0\.1:8086 cannot be reached \(.+\): start the stack \(makerdeck stack up\) or check the InfluxDB URL; nothing was reset$/,
    );
    expect(await brokerUserStatus('makerdeck-dev-rl-01')).toBe(200);

    const down = await cli(['stack', 'down'], 120_000);
    expect(down.code, down.stderr).toBe(0);
    const refused = await cli(['lab', 'reset', 'reset-lab', '--confirm', 'Reset Lab', '--json']);
    expect(refused.code).toBe(3);
    const { message } = JSON.parse(refused.stdout).error as { message: string };
    expect(message).toMatch(
      /^The broker is not reachable \(.+\): start it with makerdeck stack up; nothing was reset$/,
    );
    expect(message).not.toContain('\n');
    expect(labFile()).toBe(before);
    expect(await deviceEntries()).toEqual(entries);

    // Back up: the user is still there, and the reset now removes it.
    const up = await cli(['stack', 'up', '--profile', 'core'], 180_000);
    expect(up.code, up.stderr).toBe(0);
    expect(await brokerUserStatus('makerdeck-dev-rl-01')).toBe(200);
    const reset = await cli(['lab', 'reset', 'reset-lab', '--confirm', 'Reset Lab', '--json']);
    expect(JSON.parse(reset.stdout)).toMatchObject({ brokerUsers: ['makerdeck-dev-rl-01'], keychainEntries: 1 });
  }, 400_000);
});
