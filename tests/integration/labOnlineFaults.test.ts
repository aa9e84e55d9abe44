// The station's closed loop and its faults with real parts: the real RabbitMQ 3.10 with per-device
// users (the test stack), the emulated Uno released with its own id, and the real gnome-keyring.
// - The Uno's gateway publishes its telemetry only on its own topic, logged in as makerdeck-dev-<id>
//   (the broker's own channel list says who published); so does the Telemetry page's gateway.
// - The broker stopped mid-wait: the wait says why, and ends online once the broker is back.
// - The keychain locked mid-batch: DeviceAccounts.ensure fails in one line and no broker user is
//   left without its keychain entry, nor an entry without its user (read back from both).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockKeyring, startSecretService } from '../../scripts/services/keyring.js';
import type { FlashSummary } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { parseLineProtocol } from '../../electron/core/lineProtocol';
import { keychainNamespace } from '../../electron/core/secrets/folderKeychain';
import { runCli } from '../support/cli';
import { repoRoot, requiredEnv } from '../support/env';
import { forgetFolders } from '../support/keychain';
import { lockRealStack } from '../support/stackLock';
import { startUno, type EmulatedUno } from '../support/uno';
import { callHost, until } from '../support/wait';

const MANAGEMENT = 'http://127.0.0.1:15672';
const ID = 'lab-uno-1';
let dataDir: string;
let host: Host;
let uno: EmulatedUno | undefined;
let unlock: (() => void) | undefined;
const env = () => ({ MAKERDECK_DATA_DIR: dataDir });

async function admin() {
  return { username: 'makerdeck', password: (await host.stackCredentials.get('rabbitmq-admin'))! };
}

async function management<T>(apiPath: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const { username, password } = await admin();
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const response = await fetch(`${MANAGEMENT}${apiPath}`, { ...init, headers: { Authorization: auth } });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as T };
}

/** The device users on the real broker. */
async function deviceUsers(): Promise<string[]> {
  const { body } = await management<Array<{ name: string }>>('/api/users');
  return body
    .map((u) => u.name)
    .filter((name) => name.startsWith('makerdeck-dev-'))
    .sort();
}

/** What the broker counted as published, per user, over its channels (stats refresh every 5 s). */
async function publishedBy(): Promise<Record<string, number>> {
  const { body } = await management<Array<{ user: string; message_stats?: { publish?: number } }>>('/api/channels');
  const counts: Record<string, number> = {};
  for (const channel of body)
    counts[channel.user] = (counts[channel.user] ?? 0) + (channel.message_stats?.publish ?? 0);
  return counts;
}

/** Every message the admin sees under makerdeck/+/telemetry, as [topic, payload]. */
async function watchTelemetry(): Promise<{ seen: Array<[string, string]>; client: MqttClient }> {
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { ...(await admin()), reconnectPeriod: 0 });
  const seen: Array<[string, string]> = [];
  client.on('message', (topic, payload) => seen.push([topic, payload.toString()]));
  await client.subscribeAsync('makerdeck/+/telemetry', { qos: 1 });
  return { seen, client };
}

/** Messages whose device tag is not the id their topic names (a mix-up). */
function mixedUp(seen: Array<[string, string]>): Array<[string, string]> {
  return seen.filter(([topic, payload]) => {
    const parsed = parseLineProtocol(payload.split('\n')[0]!);
    return !parsed.ok || `makerdeck/${parsed.point.tags.get('device')}/telemetry` !== topic;
  });
}

/** Whether a (possibly locked) Secret Service holds an item for this account: its search needs no unlock. */
function keyringHas(busEnv: NodeJS.ProcessEnv, account: string): boolean {
  const search = spawnSync(
    'dbus-send',
    [
      '--session',
      '--print-reply',
      '--dest=org.freedesktop.secrets',
      '/org/freedesktop/secrets',
      'org.freedesktop.Secret.Service.SearchItems',
      `dict:string:string:service,makerdeck,username,${account}`,
    ],
    { env: { ...process.env, ...busEnv }, encoding: 'utf8' },
  );
  if (search.status !== 0) throw new Error(`SearchItems failed: ${search.stderr}`);
  return /object path "\/org\/freedesktop\/secrets\/collection\//.test(search.stdout);
}

/** DeviceAccounts.ensure, one id at a time, in a child process using the Secret Service `busEnv` names. */
function deviceBatch(batchDir: string, busEnv: NodeJS.ProcessEnv, adminPassword: string) {
  const jiti = path.join(repoRoot, 'node_modules', 'jiti', 'lib', 'jiti-cli.mjs');
  const script = path.join(repoRoot, 'tests', 'support', 'deviceBatch.ts');
  const child = spawn(process.execPath, [jiti, script, batchDir, MANAGEMENT], {
    env: { ...process.env, ...busEnv },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.write(`${adminPassword}\n`);
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async ensure(deviceId: string): Promise<{ ok: boolean; username?: string; message?: string }> {
      child.stdin.write(`${deviceId}\n`);
      const next = await answers.next();
      if (next.done) throw new Error('the device batch process ended');
      return JSON.parse(next.value as string);
    },
    stop: () => child.kill(),
  };
}

/** Starts a wait on the host's checker and records what it says. */
function startWait(deviceId: string, port: string, timeoutMs = 120_000) {
  const said: string[] = [];
  let result: string | undefined;
  const done = host.onlineChecker
    .wait({
      deviceId,
      port,
      board: 'uno',
      timeoutMs,
      signal: new AbortController().signal,
      onWait: (m) => said.push(m),
    })
    .then(
      (value) => (result = value),
      (error: Error) => (result = `error: ${error.message}`),
    );
  return { said, done, result: () => result };
}

beforeAll(async () => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  unlock = await lockRealStack();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-labonline-'));
  host = createHost({ kind: 'cli', quiet: true, dataDir });
  const up = await runCli(['stack', 'up', '--profile', 'core'], env(), { timeoutMs: 240_000 });
  expect(up.code, up.stderr).toBe(0);
  uno = await startUno(path.join(dataDir, 'uno'));
  const profile = ['profile', 'set', 'Lab Uno', '--board', 'arduino:avr:uno', '--device-id', ID, '--interval', '1'];
  const saved = await runCli([...profile, '--stack-login', '--json'], env());
  expect(saved.code, saved.stderr).toBe(0);
  const releaseEnv = { ...env(), ...uno.env, MAKERDECK_CACHE_DIR: path.join(dataDir, 'cache') };
  const released = await runCli(['release', '--profile', 'lab-uno', '--port', uno.pty, '--json'], releaseEnv, {
    timeoutMs: 300_000,
  });
  expect(released.code, released.stderr).toBe(0);
  expect((JSON.parse(released.stdout) as FlashSummary).boot).toMatchObject({ reported: true, deviceId: ID });
}, 900_000);

afterAll(async () => {
  await host?.onlineChecker.close();
  await host?.call('telemetry.gatewayStop', {});
  await host?.call('telemetry.disconnect', {});
  await uno?.stop();
  await runCli(['stack', 'reset', '--yes'], env(), { timeoutMs: 90_000 });
  await forgetFolders([dataDir]);
  rmSync(dataDir, { recursive: true, force: true });
  unlock?.();
}, 150_000);

describe('the closed loop on the real RabbitMQ, with the emulated Uno released as lab-uno-1', () => {
  it('ends online through the gateway, publishing on its own topic only, as makerdeck-dev-lab-uno-1', async () => {
    const watch = await watchTelemetry();
    try {
      const wait = startWait(ID, uno!.pty);
      await until('the Uno online', () => wait.result(), 60_000);
      expect(wait.result()).toBe('online');
      expect(wait.said).toContain(
        `waiting for the first telemetry of ${ID} on makerdeck/${ID}/telemetry ` +
          `(through the gateway on ${uno!.pty}, publishing as makerdeck-dev-${ID})`,
      );
      await until('three points on the broker', () => watch.seen.length >= 3, 30_000);
      expect(mixedUp(watch.seen)).toEqual([]);
      expect(new Set(watch.seen.map(([topic]) => topic))).toEqual(new Set([`makerdeck/${ID}/telemetry`]));
      // The broker's own count: the device's user published them (the checker's admin only reads).
      const counts = await until(
        "the broker counting the device's publishes",
        async () => {
          const by = await publishedBy();
          return (by[`makerdeck-dev-${ID}`] ?? 0) >= 3 && by;
        },
        30_000,
        1000,
      );
      expect(counts.makerdeck ?? 0).toBe(0);
    } finally {
      await watch.client.endAsync();
    }
  }, 120_000);

  it('says why while the broker is stopped mid-wait, and ends online when it is back', async () => {
    await host.onlineChecker.close(); // a station run of its own: the gateway and connection start again
    const stopped = await runCli(['stack', 'stop', 'rabbitmq'], env(), { timeoutMs: 120_000 });
    expect(stopped.code, stopped.stderr).toBe(0);
    const wait = startWait(ID, uno!.pty, 240_000);
    await until('the wait saying why', () =>
      wait.said.some((m) => m.startsWith('waiting for the broker at 127.0.0.1:1883: connection refused')),
    );
    expect(wait.result()).toBeUndefined();
    const started = await runCli(['stack', 'up', '--profile', 'core'], env(), { timeoutMs: 240_000 });
    expect(started.code, started.stderr).toBe(0);
    await until('the Uno online after the restart', () => wait.result(), 120_000, 250);
    expect(wait.result()).toBe('online');
    expect(wait.said.at(-1)).toMatch(
      /^waiting for the first telemetry of lab-uno-1 on makerdeck\/lab-uno-1\/telemetry/,
    );
    await host.onlineChecker.close();
  }, 420_000);

  it("the Telemetry page's gateway publishes as the device's own user when the keychain has it", async () => {
    const watch = await watchTelemetry();
    try {
      await callHost(host, 'telemetry.connect', {});
      await callHost(host, 'telemetry.gatewayStart', { port: uno!.pty, baudRate: 115200 });
      const before = (await publishedBy())[`makerdeck-dev-${ID}`] ?? 0;
      await until('three points on the broker', () => watch.seen.length >= 3, 30_000);
      expect(mixedUp(watch.seen)).toEqual([]);
      const counts = await until(
        "the broker counting the device's publishes",
        async () => {
          const by = await publishedBy();
          return (by[`makerdeck-dev-${ID}`] ?? 0) >= before + 3 && by;
        },
        30_000,
        1000,
      );
      expect(counts.makerdeck ?? 0).toBe(0);
    } finally {
      await host.call('telemetry.gatewayStop', {});
      await host.call('telemetry.disconnect', {});
      await watch.client.endAsync();
    }
  }, 120_000);

  it('the keychain locked mid-batch: ensure fails in one line, users and entries stay in pairs', async () => {
    // A Secret Service of its own (real gnome-keyring), so locking it leaves every other test's alone;
    // the batch runs in a child process whose keyring library talks to it (see deviceBatch.ts).
    const keyring = await startSecretService({ dir: path.join(dataDir, 'keyring') });
    const batchDir = path.join(dataDir, 'batch');
    const batch = deviceBatch(batchDir, keyring.env, (await admin()).password);
    const ids = ['kc-1', 'kc-2', 'kc-3', 'kc-4'];
    const entry = (id: string) => `${keychainNamespace(batchDir)}/device/${id}/mqtt-password`;
    try {
      const answers: Array<{ ok: boolean; username?: string; message?: string }> = [];
      for (const [index, id] of ids.entries()) {
        if (index === 2) await lockKeyring(keyring.env); // the batch is half done
        const answer = await batch.ensure(id);
        answers.push(answer);
        if (!answer.ok) break; // the station stops the batch cleanly at the first refusal
      }
      expect(answers.slice(0, 2)).toEqual([
        { ok: true, username: 'makerdeck-dev-kc-1' },
        { ok: true, username: 'makerdeck-dev-kc-2' },
      ]);
      expect(answers).toHaveLength(3);
      expect(answers[2]!.message).toMatch(/^Could not write to the keychain: The keyring is locked\. Unlock it/);
      // An existing device read from the locked keyring fails too, before the broker is touched.
      expect((await batch.ensure('kc-1')).message).toMatch(/The keyring is locked/);
      // The broker and the keychain agree: a user exactly where there is an entry.
      expect((await deviceUsers()).filter((name) => name.startsWith('makerdeck-dev-kc-'))).toEqual([
        'makerdeck-dev-kc-1',
        'makerdeck-dev-kc-2',
      ]);
      expect(ids.map((id) => keyringHas(keyring.env, entry(id)))).toEqual([true, true, false, false]);
    } finally {
      batch.stop();
      for (const id of ids) await management(`/api/users/makerdeck-dev-${id}`, { method: 'DELETE' });
      await keyring.stop();
    }
  }, 120_000);
});
