// Many writers on one data folder at once — `makerdeck profile set` processes, `makerdeck env
// attach` and `profile rm`, and a running `makerdeck serve` saving through its WebSocket — with the
// real keyring: every change lands, nothing is lost, and the keychain holds exactly the folder's
// secrets. Two data folders keep apart in the keychain. A live lock holder makes the next writer
// wait, within a bound that ends in one line.
// This file runs its own gnome-keyring: gnome-keyring 42 has an upstream race (a burst of new
// clients' OpenSession calls, GNOME/gnome-keyring#196) that can abort the daemon, and such an abort
// must not take down the keyring the other test files share.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EnvironmentView, ProfileView, ServerFrame } from '../../electron/contract';
import { FolderLock } from '../../electron/core/settings/folderLock';
import { Keychain } from '../../electron/core/secrets/keychain';
import { Redactor } from '../../electron/core/secrets/redactor';
import { runCli, type CliResult } from '../support/cli';
import { snapshot } from '../support/files';
import { folderAccount, folderSecrets } from '../support/keychain';
import { startSecretService } from '../../scripts/services/keyring.js';
import { startServe } from '../support/serve';

const CLI_WRITERS = 10;
const WS_WRITERS = 6;
const board = ['--board', 'arduino:avr:uno', '--mqtt-host', 'broker.lan'];
const lab = ['--mqtt-url', 'mqtt://lab:1883', '--influx-url', 'http://lab:8086', '--influx-db', 'lab'];
let root: string;
const folder = (name: string) => path.join(root, name);

const cli = (dir: string, args: string[], input?: string) =>
  runCli(args, { MAKERDECK_DATA_DIR: dir }, { input, timeoutMs: 90_000 });

function succeeded(what: string, result: CliResult): void {
  expect(result.code, `${what}: ${result.stdout}${result.stderr}`).toBe(0);
}

/** A profile with its two secrets, named after `id`: "<id>-wifi-secret", "<id>-mqtt-secret". */
const secretsOf = (id: string) => ({
  [`${id}/wifi-password`]: `${id}-wifi-secret`,
  [`${id}/mqtt-password`]: `${id}-mqtt-secret`,
});
/** `profile set` creating profile `id` with its secrets on stdin. */
const setProfile = (dir: string, id: string, both = true) => {
  const secrets = both ? ['--wifi-password', '--mqtt-password'] : ['--wifi-password'];
  const input = both ? `${id}-wifi-secret\n${id}-mqtt-secret\n` : `${id}-wifi-secret\n`;
  return cli(dir, ['profile', 'set', id, ...board, '--device-id', id, ...secrets], input);
};

type Reply = ServerFrame & { type: 'reply' };

/** Calls over serve's WebSocket, all sent at once; resolves the replies in call order. */
async function callAll(origin: string, token: string, calls: Array<[string, unknown]>): Promise<Reply[]> {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws?token=${token}`, { origin });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const replies = new Map<number, Reply>();
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      if (frame.type === 'reply') replies.set(frame.id, frame);
      if (replies.size === calls.length) resolve();
    });
    ws.once('close', () => reject(new Error(`the WebSocket closed after ${replies.size} of ${calls.length} replies`)));
  });
  calls.forEach(([name, args], id) => ws.send(JSON.stringify({ type: 'call', id, name, args })));
  await done;
  ws.close();
  return calls.map((_, id) => replies.get(id)!);
}

let service: Awaited<ReturnType<typeof startSecretService>> | undefined;
const sharedEnv = { ...process.env };

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-concurrency-'));
  service = await startSecretService({ dir: path.join(root, 'keyring') });
  // This worker, the CLIs and serve it starts all use this file's own Secret Service.
  Object.assign(process.env, service.env);
}, 60_000);
afterAll(async () => {
  await service?.stop();
  for (const key of Object.keys(service?.env ?? {})) {
    if (sharedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = sharedEnv[key];
  }
  rmSync(root, { recursive: true, force: true });
});

describe('parallel changes to one data folder (CLI processes and makerdeck serve, real keyring)', () => {
  const title = `${CLI_WRITERS} profile set, ${WS_WRITERS} WebSocket saves, env attach, two profile rm at once`;
  it(`${title}: all land, no secret lost or orphaned`, async () => {
    const dir = folder('shared');
    for (const id of ['old-0', 'old-1']) succeeded(id, await setProfile(dir, id, false));
    const served = await startServe({ MAKERDECK_DATA_DIR: dir });
    try {
      const writers = Array.from({ length: CLI_WRITERS }, (_, i) => setProfile(dir, `par-${i}`));
      const save = (i: number): [string, unknown] => {
        const fields = { name: `ws-${i}`, board: 'arduino:avr:uno', mqttHost: 'broker.lan', deviceId: `ws-${i}` };
        const secrets = { wifiPassword: `ws-${i}-wifi-secret`, mqttPassword: `ws-${i}-mqtt-secret` };
        return ['profiles.save', { fields, secrets }];
      };
      const web = callAll(
        served.origin,
        served.token,
        Array.from({ length: WS_WRITERS }, (_, i) => save(i)),
      );
      const others = [
        cli(dir, ['env', 'attach', ...lab, '--mqtt-password', '--influx-password'], 'lab-mqtt\nlab-influx\n'),
        cli(dir, ['profile', 'rm', 'old-0']),
        cli(dir, ['profile', 'rm', 'old-1']),
      ];
      (await Promise.all(writers)).forEach((result, i) => succeeded(`profile set par-${i}`, result));
      for (const [i, frame] of (await web).entries()) expect(frame.reply, `ws-${i}`).toMatchObject({ ok: true });
      (await Promise.all(others)).forEach((result, i) => succeeded(`writer ${i}`, result));
    } finally {
      await served.stop();
    }

    const named = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    const ids = [...named('par', CLI_WRITERS), ...named('ws', WS_WRITERS)];
    const listed = JSON.parse((await cli(dir, ['profile', 'list', '--json'])).stdout) as ProfileView[];
    expect(listed.map((p) => p.id).sort()).toEqual(ids.sort());
    for (const { id, secrets } of listed) expect(secrets, id).toEqual({ wifiPassword: true, mqttPassword: true });
    // Exactly the folder's secrets: none lost, none left over (no orphan, no transaction backup).
    const environment = { 'environment/mqtt-password': 'lab-mqtt', 'environment/influx-password': 'lab-influx' };
    expect(await folderSecrets(dir)).toEqual(Object.assign({}, ...ids.map(secretsOf), environment));
    expect((JSON.parse((await cli(dir, ['env', 'show', '--json'])).stdout) as EnvironmentView).kind).toBe('attached');
    expect([...snapshot(dir).keys()]).toEqual(['settings.json']); // no lock, no journal left
  }, 180_000);

  it('a live lock holder makes the next writer wait; after 20 s it ends in one line, changing nothing', async () => {
    const dir = folder('held');
    succeeded('set', await cli(dir, ['profile', 'set', 'Held', ...board, '--device-id', 'held']));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const acquired = new Promise<void>((resolve) => (holding = resolve));
    const holding$ = new FolderLock(dir).hold(async () => (holding(), held));
    await acquired;
    const before = snapshot(dir); // settings.json, and the lock file this test holds
    try {
      const result = await cli(dir, ['profile', 'set', 'Held', '--mqtt-port', '8883']);
      expect(result.code).toBe(3);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      const holder = `Another Makerdeck \\(process ${process.pid}\\) has been changing the settings in .*`;
      const waited = 'for over 20 s';
      const advice = 'try again when it has finished\\. Nothing was changed\\.';
      expect(lines[0]).toMatch(new RegExp(`^makerdeck: ${holder} ${waited}: ${advice}$`));
      expect(snapshot(dir)).toEqual(before);
    } finally {
      release();
      await holding$;
    }
    succeeded('set after the holder let go', await cli(dir, ['profile', 'set', 'Held', '--mqtt-port', '8883']));
  }, 60_000);
});

describe('two data folders in one keychain', () => {
  it("deleting a profile in one leaves the same profile's secret in the other", async () => {
    const [a, b] = [folder('folder-a'), folder('folder-b')];
    const set = (dir: string, secret: string) =>
      cli(dir, ['profile', 'set', 'Shared Bench', ...board, '--device-id', 'shared', '--wifi-password'], `${secret}\n`);
    succeeded('a', await set(a, 'a-wifi-secret'));
    succeeded('b', await set(b, 'b-wifi-secret'));
    expect(folderAccount(a, 'shared-bench/wifi-password')).not.toBe(folderAccount(b, 'shared-bench/wifi-password'));
    succeeded('rm in a', await cli(a, ['profile', 'rm', 'shared-bench']));
    expect(await folderSecrets(a)).toEqual({});
    expect(await folderSecrets(b)).toEqual({ 'shared-bench/wifi-password': 'b-wifi-secret' });
    const shown = JSON.parse((await cli(b, ['profile', 'show', 'shared-bench', '--json'])).stdout) as ProfileView;
    expect(shown.secrets.wifiPassword).toBe(true);
  });

  it("env attach in one does not touch the other's broker password", async () => {
    const [a, b] = [folder('env-a'), folder('env-b')];
    const attach = (dir: string, secret: string) =>
      cli(dir, ['env', 'attach', ...lab, '--mqtt-password'], `${secret}\n`);
    succeeded('b', await attach(b, 'b-broker-secret'));
    succeeded('a', await attach(a, 'a-broker-secret'));
    expect(await folderSecrets(a)).toEqual({ 'environment/mqtt-password': 'a-broker-secret' });
    expect(await folderSecrets(b)).toEqual({ 'environment/mqtt-password': 'b-broker-secret' });
    succeeded('a local', await cli(a, ['env', 'local']));
    expect(await folderSecrets(b)).toEqual({ 'environment/mqtt-password': 'b-broker-secret' });
  });

  it('folders sharing a legacy entry each get a copy; a delete in one costs the other none', async () => {
    const raw = new Keychain(new Redactor());
    const id = `legacy-${process.pid}`;
    const legacy = `${id}/wifi-password`;
    const [c, d] = [folder('legacy-c'), folder('legacy-d')];
    // What an earlier Makerdeck left: version 2 settings in both folders, one entry for both in the keychain.
    const fields = { name: 'Legacy Bench', board: 'arduino:avr:uno', wifiSsid: 'lab', mqttHost: 'h', mqttPort: 1883 };
    const more = { mqttTls: false, mqttUsername: '', deviceId: 'legacy', telemetryIntervalS: 10 };
    const profile = { ...fields, ...more, id, updatedAt: '2026-01-01' };
    const v2 = JSON.stringify({ version: 2, profiles: [profile], environment: { kind: 'local' } });
    for (const dir of [c, d]) {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'settings.json'), v2);
    }
    await raw.set(legacy, 'legacy-wifi-secret');
    try {
      const shownC = JSON.parse((await cli(c, ['profile', 'show', id, '--json'])).stdout) as ProfileView;
      expect(shownC.secrets).toEqual({ wifiPassword: true, mqttPassword: false });
      // upgraded through every migration
      expect(JSON.parse(readFileSync(path.join(c, 'settings.json'), 'utf8')).version).toBe(4);
      expect(await folderSecrets(c)).toEqual({ [legacy]: 'legacy-wifi-secret' });
      succeeded('rm in c', await cli(c, ['profile', 'rm', id]));
      expect(await folderSecrets(c)).toEqual({});
      expect(await raw.get(legacy)).toBe('legacy-wifi-secret'); // kept: d still refers to it
      const shownD = JSON.parse((await cli(d, ['profile', 'show', id, '--json'])).stdout) as ProfileView;
      expect(shownD.secrets.wifiPassword).toBe(true);
      expect(await folderSecrets(d)).toEqual({ [legacy]: 'legacy-wifi-secret' });
    } finally {
      await raw.delete(legacy);
    }
  });
});
