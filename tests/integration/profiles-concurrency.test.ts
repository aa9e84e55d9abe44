// Many writers on one data folder at once — `makerdeck profile set` processes, `makerdeck env
// attach` and `profile rm`, and a running `makerdeck serve` saving through its WebSocket — with the
// real keyring: every change lands, nothing is lost, and the keychain holds exactly the folder's
// secrets. Two data folders keep apart in the keychain. A live lock holder makes the next writer
// wait, within a bound that ends in one line.
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
import { requiredEnv } from '../support/env';
import { snapshot } from '../support/files';
import { folderAccount, folderSecrets, forgetFolders } from '../support/keychain';
import { startServe } from '../support/serve';

const CLI_WRITERS = 10;
const WS_WRITERS = 6;
const board = ['--board', 'arduino:avr:uno', '--mqtt-host', 'broker.lan'];
let root: string;
const folders: string[] = [];

function folder(name: string): string {
  const dir = path.join(root, name);
  folders.push(dir);
  return dir;
}

const cli = (dir: string, args: string[], input?: string) => runCli(args, { MAKERDECK_DATA_DIR: dir }, { input, timeoutMs: 90_000 });

function succeeded(what: string, result: CliResult): void {
  expect(result.code, `${what}: ${result.stdout}${result.stderr}`).toBe(0);
}

/** Calls over serve's WebSocket, all sent at once; resolves the replies by call. */
async function callAll(origin: string, token: string, calls: Array<[string, unknown]>): Promise<Array<ServerFrame & { type: 'reply' }>> {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws?token=${token}`, { origin });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const replies = new Map<number, ServerFrame & { type: 'reply' }>();
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

beforeAll(() => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  root = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-concurrency-'));
});
afterAll(async () => {
  await forgetFolders(folders);
  rmSync(root, { recursive: true, force: true });
});

describe('parallel changes to one data folder (CLI processes and makerdeck serve, real keyring)', () => {
  it(`${CLI_WRITERS} profile set, ${WS_WRITERS} WebSocket saves, env attach and two profile rm at once: all land, no secret lost or orphaned`, async () => {
    const dir = folder('shared');
    for (const old of ['Old 0', 'Old 1']) succeeded(old, await cli(dir, ['profile', 'set', old, ...board, '--device-id', old.replace(' ', '-').toLowerCase(), '--wifi-password'], `${old}-wifi-secret\n`));
    const served = await startServe({ MAKERDECK_DATA_DIR: dir });
    try {
      const writers = Array.from({ length: CLI_WRITERS }, (_, i) =>
        cli(dir, ['profile', 'set', `Par ${i}`, ...board, '--device-id', `par-${i}`, '--wifi-password', '--mqtt-password', '--json'], `par-${i}-wifi-secret\npar-${i}-mqtt-secret\n`),
      );
      const web = callAll(
        served.origin,
        served.token,
        Array.from({ length: WS_WRITERS }, (_, i) => ['profiles.save', { fields: { name: `Ws ${i}`, board: 'arduino:avr:uno', mqttHost: 'broker.lan', deviceId: `ws-${i}` }, secrets: { wifiPassword: `ws-${i}-wifi-secret`, mqttPassword: `ws-${i}-mqtt-secret` } }]),
      );
      const others = [
        cli(dir, ['env', 'attach', '--mqtt-url', 'mqtt://lab:1883', '--influx-url', 'http://lab:8086', '--influx-db', 'lab', '--mqtt-password', '--influx-password'], 'lab-mqtt-secret\nlab-influx-secret\n'),
        cli(dir, ['profile', 'rm', 'Old 0']),
        cli(dir, ['profile', 'rm', 'Old 1']),
      ];
      const results = await Promise.all(writers);
      results.forEach((result, i) => succeeded(`profile set Par ${i}`, result));
      for (const [i, frame] of (await web).entries()) expect(frame.reply, `Ws ${i}`).toMatchObject({ ok: true });
      (await Promise.all(others)).forEach((result, i) => succeeded(`writer ${i}`, result));
    } finally {
      await served.stop();
    }

    const expected = [...Array.from({ length: CLI_WRITERS }, (_, i) => [`Par ${i}`, `par-${i}`]), ...Array.from({ length: WS_WRITERS }, (_, i) => [`Ws ${i}`, `ws-${i}`])];
    const listed = JSON.parse((await cli(dir, ['profile', 'list', '--json'])).stdout) as ProfileView[];
    expect(listed.map((p) => p.name).sort()).toEqual(expected.map(([name]) => name).sort());
    for (const profile of listed) expect(profile.secrets, profile.name).toEqual({ wifiPassword: true, mqttPassword: true });
    const secrets = Object.fromEntries(expected.flatMap(([, id]) => [[`${id}/wifi-password`, `${id}-wifi-secret`], [`${id}/mqtt-password`, `${id}-mqtt-secret`]]));
    // Exactly the folder's secrets: none lost, none left over (no orphan, no transaction backup).
    expect(await folderSecrets(dir)).toEqual({ ...secrets, 'environment/mqtt-password': 'lab-mqtt-secret', 'environment/influx-password': 'lab-influx-secret' });
    expect((JSON.parse((await cli(dir, ['env', 'show', '--json'])).stdout) as EnvironmentView).kind).toBe('attached');
    expect([...snapshot(dir).keys()]).toEqual(['settings.json']); // no lock, no journal left
  }, 180_000);

  it('a live holder of the lock makes the next writer wait, and the wait ends after 20 s in one line, changing nothing', async () => {
    const dir = folder('held');
    succeeded('set', await cli(dir, ['profile', 'set', 'Held', ...board, '--device-id', 'held']));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const acquired = new Promise<void>((resolve) => (holding = resolve));
    const holder = new FolderLock(dir).hold(async () => (holding(), held));
    await acquired;
    const before = snapshot(dir); // settings.json, and the lock file this test holds
    try {
      const result = await cli(dir, ['profile', 'set', 'Held', '--mqtt-port', '8883']);
      expect(result.code).toBe(3);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^makerdeck: Another Makerdeck \\(process ${process.pid}\\) has been changing the settings in .* for over 20 s: try again when it has finished\\. Nothing was changed\\.$`));
      expect(snapshot(dir)).toEqual(before);
    } finally {
      release();
      await holder;
    }
    succeeded('set after the holder let go', await cli(dir, ['profile', 'set', 'Held', '--mqtt-port', '8883']));
  }, 60_000);
});

describe('two data folders in one keychain', () => {
  it('deleting a profile in one leaves the same profile\'s secret in the other', async () => {
    const [a, b] = [folder('folder-a'), folder('folder-b')];
    succeeded('a', await cli(a, ['profile', 'set', 'Shared Bench', ...board, '--device-id', 'shared', '--wifi-password'], 'a-wifi-secret\n'));
    succeeded('b', await cli(b, ['profile', 'set', 'Shared Bench', ...board, '--device-id', 'shared', '--wifi-password'], 'b-wifi-secret\n'));
    expect(folderAccount(a, 'shared-bench/wifi-password')).not.toBe(folderAccount(b, 'shared-bench/wifi-password'));
    succeeded('rm in a', await cli(a, ['profile', 'rm', 'shared-bench']));
    expect(await folderSecrets(a)).toEqual({});
    expect(await folderSecrets(b)).toEqual({ 'shared-bench/wifi-password': 'b-wifi-secret' });
    const shown = JSON.parse((await cli(b, ['profile', 'show', 'shared-bench', '--json'])).stdout) as ProfileView;
    expect(shown.secrets.wifiPassword).toBe(true);
  });

  it('env attach in one does not touch the other\'s broker password', async () => {
    const [a, b] = [folder('env-a'), folder('env-b')];
    const attach = (dir: string, secret: string) => cli(dir, ['env', 'attach', '--mqtt-url', 'mqtt://lab:1883', '--influx-url', 'http://lab:8086', '--influx-db', 'lab', '--mqtt-password'], `${secret}\n`);
    succeeded('b', await attach(b, 'b-broker-secret'));
    succeeded('a', await attach(a, 'a-broker-secret'));
    expect(await folderSecrets(a)).toEqual({ 'environment/mqtt-password': 'a-broker-secret' });
    expect(await folderSecrets(b)).toEqual({ 'environment/mqtt-password': 'b-broker-secret' });
    succeeded('a local', await cli(a, ['env', 'local']));
    expect(await folderSecrets(b)).toEqual({ 'environment/mqtt-password': 'b-broker-secret' });
  });

  it('two folders that shared an un-namespaced (legacy) entry each get a copy; deleting in one loses nothing for the other', async () => {
    const raw = new Keychain(new Redactor());
    const id = `legacy-${process.pid}`;
    const legacy = { wifi: `${id}/wifi-password` };
    const [c, d] = [folder('legacy-c'), folder('legacy-d')];
    // What an earlier Makerdeck left: version 2 settings in both folders, one entry for both in the keychain.
    const v2 = {
      version: 2,
      profiles: [{ name: 'Legacy Bench', board: 'arduino:avr:uno', wifiSsid: 'lab', mqttHost: 'h', mqttPort: 1883, mqttTls: false, mqttUsername: '', deviceId: 'legacy', telemetryIntervalS: 10, id, updatedAt: '2026-01-01T00:00:00.000Z' }],
      environment: { kind: 'local' },
    };
    for (const dir of [c, d]) {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(v2));
    }
    await raw.set(legacy.wifi, 'legacy-wifi-secret');
    try {
      const shownC = JSON.parse((await cli(c, ['profile', 'show', id, '--json'])).stdout) as ProfileView;
      expect(shownC.secrets).toEqual({ wifiPassword: true, mqttPassword: false });
      expect(JSON.parse(readFileSync(path.join(c, 'settings.json'), 'utf8')).version).toBe(3);
      expect(await folderSecrets(c)).toEqual({ [legacy.wifi]: 'legacy-wifi-secret' });
      succeeded('rm in c', await cli(c, ['profile', 'rm', id]));
      expect(await folderSecrets(c)).toEqual({});
      expect(await raw.get(legacy.wifi)).toBe('legacy-wifi-secret'); // kept: d still refers to it
      const shownD = JSON.parse((await cli(d, ['profile', 'show', id, '--json'])).stdout) as ProfileView;
      expect(shownD.secrets.wifiPassword).toBe(true);
      expect(await folderSecrets(d)).toEqual({ [legacy.wifi]: 'legacy-wifi-secret' });
    } finally {
      await raw.delete(legacy.wifi);
    }
  });
});
