// A broker login per device on the real stack (Debian's RabbitMQ 3.10 from the rig's images, the
// real Secret Service): device A's login cannot put a message on device B's topic, each login is
// rotated or revoked alone, a user and its keychain entry exist together or not at all, and
// `stack up` moves an old install off the shared "makerdeck-device" login. A release (to an emulated
// Uno) creates the device's user and stamps its login; with the stack down it stamps the keychain's.
// Two emulated Unos, one compile: each released with its own login and id, each board's serial
// gateway lines on its own topic. (The gateway publishes with the board's own device login, which
// the keychain holds; see labOnlineFaults.test.ts for the broker's count of who published.)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceLoginView, FlashSummary, ProfileView } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { parseLineProtocol } from '../../electron/core/lineProtocol';
import { FolderKeychain } from '../../electron/core/secrets/folderKeychain';
import { Keychain } from '../../electron/core/secrets/keychain';
import { Redactor } from '../../electron/core/secrets/redactor';
import { DeviceAccounts } from '../../electron/core/stack/deviceAccounts';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { forgetFolders } from '../support/keychain';
import { lockRealStack } from '../support/stackLock';
import { startUno } from '../support/uno';
import { callHost, until } from '../support/wait';

const MANAGEMENT = 'http://127.0.0.1:15672';
let dataDir: string;
let host: Host;
let unlock: (() => void) | undefined;
const env = () => ({ MAKERDECK_DATA_DIR: dataDir });

function connect(username: string, password: string): Promise<MqttClient> {
  return mqtt.connectAsync('mqtt://127.0.0.1:1883', {
    username,
    password,
    protocolVersion: 4,
    connectTimeout: 10_000,
    reconnectPeriod: 0,
  });
}

async function admin() {
  return { username: 'makerdeck', password: (await host.stackCredentials.get('rabbitmq-admin'))! };
}

async function management(method: string, apiPath: string, body?: unknown): Promise<Response> {
  const { username, password } = await admin();
  return fetch(`${MANAGEMENT}${apiPath}`, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      'Content-Type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Every message the admin sees under `topic` (makerdeck/# by default), as "topic payload". */
async function watchAsAdmin(topic = 'makerdeck/#'): Promise<{ seen: string[]; client: MqttClient }> {
  const { username, password } = await admin();
  const client = await connect(username, password);
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  await client.subscribeAsync(topic, { qos: 1 });
  return { seen, client };
}

/** Publishes once and reports whether the broker kept the session open (RabbitMQ closes it on a refusal). */
async function publishAndSeeIfClosed(client: MqttClient, topic: string, payload: string, qos: 0 | 1) {
  let closed = false;
  client.once('close', () => (closed = true));
  client.publish(topic, payload, { qos });
  await until(`the broker closing the session after a publish on ${topic}`, () => closed, 8000);
  client.end(true);
  return closed;
}

beforeAll(async () => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  unlock = await lockRealStack();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-devaccounts-'));
  host = createHost({ kind: 'cli', quiet: true, dataDir });
}, 600_000);

afterAll(async () => {
  await runCli(['stack', 'reset', '--yes'], env(), { timeoutMs: 60_000 });
  await forgetFolders([dataDir]);
  rmSync(dataDir, { recursive: true, force: true });
  unlock?.();
}, 90_000);

describe('device logins on the real RabbitMQ 3.10 and the real keychain', () => {
  it('moves an old install off the shared login on the next stack up', async () => {
    // An install from before: the shared password in the keychain, a profile using it.
    const shared = await host.stackCredentials.ensure('rabbitmq-device');
    const up = await runCli(['stack', 'up', '--profile', 'core', '--json'], env(), { timeoutMs: 180_000 });
    expect(up.code, up.stderr).toBe(0);
    // …and the shared user on the broker, as the old `up` set it.
    expect((await management('PUT', '/api/users/makerdeck-device', { password: shared, tags: '' })).status).toBe(201);
    const old = await host.call('profiles.save', {
      fields: { name: 'Old Board', board: 'arduino:avr:uno', mqttHost: '127.0.0.1', deviceId: 'old-1' },
      secrets: { mqttPassword: shared },
    });
    expect(old.ok).toBe(true);
    await host.call('profiles.save', { ref: 'old-board', fields: { mqttUsername: 'makerdeck-device' }, secrets: {} });

    const again = await runCli(['stack', 'up', '--profile', 'core'], env(), { timeoutMs: 180_000 });
    expect(again.code, again.stderr).toBe(0);
    const lines = again.stderr.split('\n').filter((l) => l.includes('makerdeck-device'));
    expect(lines).toEqual([
      'rabbitmq: provision — shared device login makerdeck-device removed; own logins for Old Board ' +
        '(makerdeck-dev-old-1) (flash these boards again)',
    ]);
    expect(again.stderr + again.stdout).not.toContain(shared);
    expect((await management('GET', '/api/users/makerdeck-device')).status).toBe(404);
    expect(await host.stackCredentials.get('rabbitmq-device')).toBeUndefined();
    const profile = (await host.call('profiles.get', { ref: 'old-board' })) as { ok: true; value: ProfileView };
    expect(profile.value.mqttUsername).toBe('makerdeck-dev-old-1');
    const own = (await host.profiles.secretsOf('old-board')).mqttPassword!;
    expect(own).toMatch(/^[\w-]{43}$/);
    expect((await host.deviceAccounts.ensure('old-1')).password).toBe(own);
    await (await connect('makerdeck-dev-old-1', own)).endAsync();
    await expect(connect('makerdeck-device', shared)).rejects.toThrow(/Not authorized|Bad username or password/);

    // A third up has nothing to move and says nothing about it.
    const third = await runCli(['stack', 'up', '--profile', 'core'], env(), { timeoutMs: 180_000 });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toContain('makerdeck-device');
  }, 400_000);

  it("keeps device A off device B's topics, and rotates and revokes one device alone", async () => {
    for (const id of ['dev-a', 'dev-b']) {
      const created = await runCli(['device-login', 'create', id, '--json'], env());
      expect(created.code, created.stderr).toBe(0);
      expect(JSON.parse(created.stdout)).toEqual({ deviceId: id, username: `makerdeck-dev-${id}`, inKeychain: true });
    }
    const a = await host.deviceAccounts.ensure('dev-a');
    const b = await host.deviceAccounts.ensure('dev-b');
    expect(a.password).not.toBe(b.password);
    const permissions = await (await management('GET', '/api/users/makerdeck-dev-dev-a/topic-permissions')).json();
    expect(permissions).toEqual([
      expect.objectContaining({
        exchange: 'amq.topic',
        write: '^makerdeck\\.dev\\-a\\.(telemetry|status)$',
        read: '^$',
      }),
    ]);

    const watch = await watchAsAdmin();
    // A publishes on its own topics.
    const clientA = await connect(a.username, a.password);
    await clientA.publishAsync('makerdeck/dev-a/telemetry', 'a-own', { qos: 1 });
    await clientA.publishAsync('makerdeck/dev-a/status', 'a-status', { qos: 1 });
    await until('the admin seeing A on its own topics', () => watch.seen.length >= 2);
    // A's publish on B's topic (QoS 1 and QoS 0) is refused: the broker drops A's session.
    expect(await publishAndSeeIfClosed(clientA, 'makerdeck/dev-b/telemetry', 'a-forged-1', 1)).toBe(true);
    const again = await connect(a.username, a.password);
    expect(await publishAndSeeIfClosed(again, 'makerdeck/dev-b/telemetry', 'a-forged-0', 0)).toBe(true);
    // B's own message after A's attempts: once it arrives, anything of A's would have too.
    const clientB = await connect(b.username, b.password);
    await clientB.publishAsync('makerdeck/dev-b/telemetry', 'b-own', { qos: 1 });
    await until("the admin seeing B's message", () => watch.seen.includes('makerdeck/dev-b/telemetry b-own'));
    await clientB.endAsync();
    expect(watch.seen).toEqual([
      'makerdeck/dev-a/telemetry a-own',
      'makerdeck/dev-a/status a-status',
      'makerdeck/dev-b/telemetry b-own',
    ]);
    await watch.client.endAsync();

    // Rotate A: the old password is refused, the new one works, B is untouched.
    const rotated = await runCli(['device-login', 'rotate', 'dev-a', '--json'], env());
    expect(rotated.code, rotated.stderr).toBe(0);
    const a2 = await host.deviceAccounts.ensure('dev-a');
    expect(a2.password).not.toBe(a.password);
    expect(rotated.stdout).not.toContain(a2.password);
    await expect(connect(a.username, a.password)).rejects.toThrow(/Not authorized|Bad username or password/);
    await (await connect(a2.username, a2.password)).endAsync();
    await (await connect(b.username, b.password)).endAsync();

    // Revoke A: its user and keychain entry are gone, B still connects.
    const revoked = await runCli(['device-login', 'revoke', 'dev-a', '--json'], env());
    expect(JSON.parse(revoked.stdout)).toEqual({ deviceId: 'dev-a', revoked: true });
    await expect(connect(a2.username, a2.password)).rejects.toThrow(/Not authorized|Bad username or password/);
    const keychain = new FolderKeychain(new Keychain(new Redactor()), dataDir);
    expect(await keychain.get('device/dev-a/mqtt-password')).toBeUndefined();
    await (await connect(b.username, b.password)).endAsync();
    const list = await runCli(['device-login', 'list', '--json'], env());
    const ids = (JSON.parse(list.stdout) as DeviceLoginView[]).map((l) => l.deviceId);
    expect(ids).toEqual(['dev-b', 'old-1']);
    const rotateGone = await runCli(['device-login', 'rotate', 'dev-a', '--json'], env());
    expect(rotateGone.code).not.toBe(0);
    expect(JSON.parse(rotateGone.stdout).error.code).toBe('NOT_FOUND');

    // A profile that logs in as a device takes the rotated password with it.
    const before = (await host.profiles.secretsOf('old-board')).mqttPassword;
    expect((await runCli(['device-login', 'rotate', 'old-1'], env())).code).toBe(0);
    const after = (await host.profiles.secretsOf('old-board')).mqttPassword;
    expect(after).not.toBe(before);
    expect(after).toBe((await host.deviceAccounts.ensure('old-1')).password);
  }, 120_000);

  it('makes a user and its keychain entry together or not at all', async () => {
    const folderKeychain = new FolderKeychain(new Keychain(new Redactor()), dataDir);
    const realAdmin = async () => ({ managementUrl: MANAGEMENT, ...(await admin()) });
    const lock = { hold: <T>(work: () => Promise<T>) => work() } as never;

    // A keychain that refuses writes (a stand-in over the real one): the new broker user is deleted again.
    const refusing = Object.assign(Object.create(folderKeychain) as FolderKeychain, {
      set: async () => {
        throw new Error('stand-in keychain: write refused');
      },
    });
    const noKeychain = new DeviceAccounts({ keychain: refusing, lock, admin: realAdmin });
    await expect(noKeychain.ensure('dev-c')).rejects.toThrow('write refused');
    expect((await management('GET', '/api/users/makerdeck-dev-dev-c')).status).toBe(404);

    // A broker that refuses the admin: no keychain entry is made.
    const wrongAdmin = async () => ({ managementUrl: MANAGEMENT, username: 'makerdeck', password: 'wrong' });
    const noBroker = new DeviceAccounts({ keychain: folderKeychain, lock, admin: wrongAdmin });
    await expect(noBroker.ensure('dev-d')).rejects.toThrow(/RabbitMQ refused/);
    expect(await folderKeychain.get('device/dev-d/mqtt-password')).toBeUndefined();
    expect((await management('GET', '/api/users/makerdeck-dev-dev-d')).status).toBe(404);
  }, 60_000);

  it('a release creates the device user and stamps it; with the stack down, the keychain login', async () => {
    const uno = await startUno(path.join(dataDir, 'uno'));
    const releaseEnv = { ...env(), ...uno.env, MAKERDECK_CACHE_DIR: path.join(dataDir, 'cache') };
    const release = (profile: string, port = uno.pty) =>
      runCli(['release', '--profile', profile, '--port', port, '--json'], releaseEnv, { timeoutMs: 240_000 });
    try {
      // A profile that logs in as its device's own user, which the broker does not have yet.
      const fields = { board: 'arduino:avr:uno', mqttHost: '', deviceId: 'rel-1', mqttUsername: 'makerdeck-dev-rel-1' };
      expect((await host.call('profiles.save', { fields: { name: 'Release One', ...fields } })).ok).toBe(true);
      expect((await management('GET', '/api/users/makerdeck-dev-rel-1')).status).toBe(404);

      const first = await release('release-one');
      expect(first.code, first.stderr).toBe(0);
      const summary = JSON.parse(first.stdout) as FlashSummary;
      expect(summary.release).toMatchObject({ deviceId: 'rel-1', brokerUser: 'makerdeck-dev-rel-1' });
      expect(summary.release!.brokerNotice).toBeUndefined();
      expect(summary.boot).toMatchObject({ reported: true, deviceId: 'rel-1' });
      const login = (await host.deviceAccounts.stored('rel-1'))!;
      expect(login.password).toMatch(/^[\w-]{43}$/);
      const permissions = await (await management('GET', '/api/users/makerdeck-dev-rel-1/topic-permissions')).json();
      expect(permissions).toEqual([expect.objectContaining({ write: '^makerdeck\\.rel\\-1\\.(telemetry|status)$' })]);
      await (await connect(login.username, login.password)).endAsync();
      expect(first.stdout + first.stderr).not.toContain(login.password);

      // Stack down: the keychain's login is stamped, and the release says the user was not checked.
      expect((await runCli(['stack', 'down'], env(), { timeoutMs: 120_000 })).code).toBe(0);
      const second = await release('release-one');
      expect(second.code, second.stderr).toBe(0);
      const again = JSON.parse(second.stdout) as FlashSummary;
      expect(again.release).toMatchObject({ brokerUser: 'makerdeck-dev-rel-1', cached: true });
      expect(again.release!.brokerNotice).toMatch(
        /^the broker user makerdeck-dev-rel-1 could not be checked \(.+\): the keychain's login was stamped$/,
      );
      expect(again.boot).toMatchObject({ reported: true, deviceId: 'rel-1' });
      expect((await host.deviceAccounts.stored('rel-1'))!.password).toBe(login.password);

      // No login in the keychain and no stack: one line with the fix, before the port is touched.
      const other = { ...fields, deviceId: 'rel-2', mqttUsername: 'makerdeck-dev-rel-2' };
      expect((await host.call('profiles.save', { fields: { name: 'Release Two', ...other } })).ok).toBe(true);
      const refused = await release('release-two', '/dev/makerdeck-no-such-port');
      expect(refused.code).not.toBe(0);
      expect(JSON.parse(refused.stdout).error.message).toMatch(
        /^makerdeck-dev-rel-2 needs the local stack to be created \(.+\): start it with makerdeck stack up$/,
      );
      expect(await host.deviceAccounts.stored('rel-2')).toBeUndefined();
    } finally {
      await uno.stop();
    }
  }, 400_000);

  it('two Unos, one compile: each released with its own login, its gateway lines on its own topic', async () => {
    const up = await runCli(['stack', 'up', '--profile', 'core'], env(), { timeoutMs: 180_000 });
    expect(up.code, up.stderr).toBe(0);
    const unos = {
      'uno-a': await startUno(path.join(dataDir, 'uno-a')),
      'uno-b': await startUno(path.join(dataDir, 'uno-b')),
    };
    // A build cache of its own: the earlier release's build must not count as this test's compile.
    const releaseEnv = { ...env(), ...unos['uno-a'].env, MAKERDECK_CACHE_DIR: path.join(dataDir, 'cache-two') };
    const gateways: Host[] = [];
    let watch: Awaited<ReturnType<typeof watchAsAdmin>> | undefined;
    try {
      const summaries: FlashSummary[] = [];
      for (const [id, uno] of Object.entries(unos)) {
        const name = id === 'uno-a' ? 'Uno A' : 'Uno B';
        const args = ['profile', 'set', name, '--board', 'arduino:avr:uno', '--device-id', id, '--interval', '1'];
        const profile = await runCli([...args, '--stack-login', '--json'], env());
        expect(profile.code, profile.stderr).toBe(0);
        expect(JSON.parse(profile.stdout)).toMatchObject({ id, mqttUsername: `makerdeck-dev-${id}` });
        const released = await runCli(['release', '--profile', id, '--port', uno.pty, '--json'], releaseEnv, {
          timeoutMs: 240_000,
        });
        expect(released.code, released.stderr).toBe(0);
        summaries.push(JSON.parse(released.stdout) as FlashSummary);
      }
      const [a, b] = summaries as [FlashSummary, FlashSummary];
      expect(a.release).toMatchObject({ deviceId: 'uno-a', brokerUser: 'makerdeck-dev-uno-a', cached: false });
      const buildHash = a.release!.buildHash;
      expect(b.release).toMatchObject({
        deviceId: 'uno-b',
        brokerUser: 'makerdeck-dev-uno-b',
        cached: true,
        buildHash,
      });
      expect(a.boot).toMatchObject({ reported: true, deviceId: 'uno-a', buildHash });
      expect(b.boot).toMatchObject({ reported: true, deviceId: 'uno-b', buildHash });

      // Each board through its own gateway (a host each: one gateway per host), watched on the real broker.
      watch = await watchAsAdmin('makerdeck/+/telemetry');
      for (const uno of Object.values(unos)) {
        const gateway = createHost({ kind: 'cli', quiet: true, dataDir });
        gateways.push(gateway);
        await callHost(gateway, 'telemetry.connect', {});
        await callHost(gateway, 'telemetry.gatewayStart', { port: uno.pty, baudRate: 115200 });
      }
      const on = (topic: string) => watch!.seen.filter((m) => m.startsWith(`${topic} `)).length;
      await until(
        'three lines from each board on its topic',
        () => on('makerdeck/uno-a/telemetry') >= 3 && on('makerdeck/uno-b/telemetry') >= 3,
        30_000,
      );
      // Every message, on either topic, carries the device tag its topic names.
      const mixed = watch.seen.filter((message) => {
        const [topic, payload] = [message.slice(0, message.indexOf(' ')), message.slice(message.indexOf(' ') + 1)];
        const parsed = parseLineProtocol(payload);
        return !parsed.ok || `makerdeck/${parsed.point.tags.get('device')}/telemetry` !== topic;
      });
      expect(mixed).toEqual([]);
    } finally {
      for (const gateway of gateways) {
        await gateway.call('telemetry.gatewayStop', {});
        await gateway.call('telemetry.disconnect', {});
      }
      await watch?.client.endAsync();
      for (const uno of Object.values(unos)) await uno.stop();
    }
  }, 600_000);
});
