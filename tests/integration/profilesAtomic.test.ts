// Nothing lost, nothing half-done: a settings change that fails at any step — the keychain failing
// its 1st, 2nd, … write or delete, the settings file failing to write, a real full disk, the
// process killed with SIGKILL — leaves settings.json and the real keyring exactly as they were, or,
// once the settings file was written, finishes. Read back from the real keyring each time.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderKeychain } from '../../electron/core/secrets/folderKeychain';
import { Keychain } from '../../electron/core/secrets/keychain';
import { Redactor } from '../../electron/core/secrets/redactor';
import { StackCredentials } from '../../electron/core/secrets/stackCredentials';
import { SettingsFile } from '../../electron/core/settings/settingsFile';
import { runCli } from '../support/cli';
import { repoRoot, requiredEnv } from '../support/env';
import { baseline, KeychainFailingAt, SCENARIOS, world, type KeychainOp } from '../support/faultScenarios';
import { snapshot } from '../support/files';
import { folderAccount, folderSecrets, forgetFolders, secretToolFolderSecrets } from '../support/keychain';
import { startSecretService } from '../../scripts/services/keyring.js';

const base = { board: 'esp32:esp32:esp32', wifiSsid: 'atomic-net', mqttHost: 'broker.lan', deviceId: 'atomic-1' };
let root: string;
const folders: string[] = [];

function folder(name: string): string {
  const dir = path.join(root, `${name.replace(/\W+/g, '-')}-${folders.length}`);
  folders.push(dir);
  return dir;
}

/** settings.json (and anything else in the folder) byte for byte, and the folder's keychain entries. */
async function state(dir: string) {
  return { files: snapshot(dir), secrets: await folderSecrets(dir) };
}

/** The same, with the save times and transaction ids left out, to compare two runs of one change. */
async function outcome(dir: string, secrets?: Record<string, string | undefined>) {
  type Stored = { profiles: Array<{ updatedAt?: string }>; keychainTransaction?: string };
  const settings = JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8')) as Stored;
  for (const profile of settings.profiles) delete profile.updatedAt;
  delete settings.keychainTransaction;
  return { files: [...snapshot(dir).keys()], settings, secrets: secrets ?? (await folderSecrets(dir)) };
}

/** How many keychain writes and deletes a change makes, and how many of them come before its commit. */
async function dryRun(scenario: string) {
  const dir = folder(`dry ${scenario}`);
  const start = await baseline(dir);
  const counting = new KeychainFailingAt();
  await SCENARIOS[scenario]!(world(dir, counting), start);
  const log: KeychainOp[] = counting.log;
  // After the settings file is written only the backups are deleted.
  const commitAfter = log.findLastIndex((op) => !op.account.includes('/journal/')) + 1;
  return { log, commitAfter, after: await outcome(dir) };
}

beforeAll(() => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  root = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-atomic-'));
});
afterAll(async () => {
  await forgetFolders(folders);
  rmSync(root, { recursive: true, force: true });
});

describe('a change that fails at each step (fault-injecting wrapper over the real keyring)', () => {
  for (const scenario of Object.keys(SCENARIOS)) {
    it(`${scenario}: the Nth keychain write or delete fails, for every N, then the settings write fails`, async () => {
      const dry = await dryRun(scenario);
      expect(dry.log.length).toBeGreaterThanOrEqual(2);
      for (let failAt = 1; failAt <= dry.log.length; failAt++) {
        const dir = folder(`${scenario} ${failAt}`);
        const start = await baseline(dir);
        const before = await state(dir);
        const faulty = world(dir, new KeychainFailingAt(failAt));
        const run = SCENARIOS[scenario]!(faulty, start);
        if (failAt <= dry.commitAfter) {
          const { verb, account } = dry.log[failAt - 1]!;
          const claim = new RegExp(`injected fault at write/delete #${failAt}\\. Nothing was changed\\.$`);
          await expect(run, `fault at #${failAt} (${verb} ${account})`).rejects.toThrow(claim);
          expect(await state(dir), `fault at #${failAt}`).toEqual(before);
        } else {
          // A backup the keychain would not delete after the commit: the change stands, the next
          // read tidies up.
          await run;
          await faulty.profiles.list();
          expect(await outcome(dir), `fault at #${failAt}`).toEqual(dry.after);
        }
        await forgetFolders([dir]); // keeps the test keyring small: every read-back lists all of it
      }
      const dir = folder(`${scenario} settings`);
      const start = await baseline(dir);
      const before = await state(dir);
      const failing = world(dir);
      failing.file.fail = true;
      await expect(SCENARIOS[scenario]!(failing, start)).rejects.toThrow(/injected fault\. Nothing was changed\.$/);
      expect(await state(dir)).toEqual(before);
    }, 120_000);
  }

  it('a keyring that dies between two writes: the reply says so, and the next save puts it back first', async () => {
    const dir = folder('dying keyring');
    await baseline(dir);
    const before = await state(dir);
    const dying = new KeychainFailingAt(2, true); // the second secret's write fails, and so does every undo
    const { profiles } = world(dir, dying);
    const orphans = { wifiPassword: 'orphan-wifi', mqttPassword: 'orphan-mqtt' };
    const failed = profiles.save({ fields: { ...base, name: 'Orphan Bench' }, secrets: orphans });
    const pending = /did not let Makerdeck undo all of it yet.*the settings file was not changed\.$/;
    await expect(failed).rejects.toThrow(pending);
    await expect(failed).rejects.not.toThrow(/Nothing was changed/);
    // Left behind, for now.
    expect((await state(dir)).secrets).toMatchObject({ 'orphan-bench/wifi-password': 'orphan-wifi' });
    dying.revive();
    // A later save without passwords must not take the orphan for the profile's password.
    const saved = await profiles.save({ fields: { ...base, name: 'Orphan Bench' }, secrets: {} });
    expect(saved.secrets).toEqual({ wifiPassword: false, mqttPassword: false });
    const after = await state(dir);
    expect(after.secrets).toEqual(before.secrets);
    expect([...after.files.keys()]).toEqual(['settings.json']);
  });

  it('undoes the keychain changes when the disk is full (a real 64 KiB tmpfs, filled up)', async () => {
    const mount = path.join(root, 'full-disk');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    try {
      const dataDir = path.join(mount, 'data');
      folders.push(dataDir);
      const { profiles } = world(dataDir);
      const fields = { ...base, name: 'Disk Bench', deviceId: 'disk-1' };
      await profiles.save({ fields, secrets: { mqttPassword: 'disk-old-mqtt' } });
      const before = await state(dataDir);
      // Fill the filesystem but for two pages: one for the lock, one for the journal; the new
      // settings file then hits ENOSPC after the keychain was changed.
      const { bavail, bsize } = statfsSync(mount);
      writeFileSync(path.join(mount, 'filler'), Buffer.alloc((bavail - 2) * bsize));
      const secrets = { mqttPassword: 'disk-new-mqtt', wifiPassword: 'disk-new-wifi' };
      await expect(profiles.save({ ref: 'disk-bench', fields: { telemetryIntervalS: 60 }, secrets })).rejects.toThrow(
        /Cannot save .*settings\.json: the disk is full\. Nothing was changed\.$/,
      );
      expect(await state(dataDir)).toEqual(before);
      expect(before.secrets).toEqual({ 'disk-bench/mqtt-password': 'disk-old-mqtt' });
      rmSync(path.join(mount, 'filler'));
      await profiles.remove('disk-bench');
      expect((await state(dataDir)).secrets).toEqual({});
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});

describe('a process killed (SIGKILL) at each step of a change', () => {
  // A Secret Service of its own: a client killed mid-conversation can crash gnome-keyring-daemon
  // (seen once here: a GLib assertion on a vanished client), and that must not take down the
  // keyring every other test file uses.
  let service: Awaited<ReturnType<typeof startSecretService>>;
  beforeAll(async () => {
    service = await startSecretService({ dir: path.join(root, 'kill-keyring') });
  });
  afterAll(async () => service?.stop());

  const cli = (dir: string, args: string[], input?: string) =>
    runCli(args, { ...service.env, MAKERDECK_DATA_DIR: dir }, { input, timeoutMs: 30_000 });
  const secretsOf = (dir: string) => secretToolFolderSecrets(dir, service.env);

  /** Runs the change in a child process (TypeScript through jiti) that kills itself at `point` ("none": never). */
  type Ended = { signal: NodeJS.Signals | null; stdout: string };
  function killedAt(dir: string, scenario: string, point: string): Promise<Ended> {
    const jiti = path.join(repoRoot, 'node_modules', 'jiti', 'lib', 'jiti-cli.mjs');
    const script = path.join(repoRoot, 'tests', 'support', 'killedSave.ts');
    const env = { ...process.env, ...service.env };
    const child = spawn(process.execPath, [jiti, script, dir, scenario, point], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (code) reject(new Error(`killedSave exited ${code}: ${stderr}`));
        else resolve({ signal, stdout });
      });
    });
  }

  async function start(dir: string): Promise<void> {
    const fields = ['--board', 'esp32:esp32:esp32', '--ssid', 'fault-net', '--mqtt-host', 'broker.lan'];
    const secrets = ['--wifi-password', '--mqtt-password'];
    const args = ['profile', 'set', 'Fault Bench', ...fields, '--device-id', 'fault-1', ...secrets];
    const created = await cli(dir, args, 'old-wifi-pass\nold-mqtt-pass\n');
    expect(created.code, created.stderr).toBe(0);
  }

  for (const scenario of ['change both secrets', 'create with secrets']) {
    it(`${scenario}: the next CLI command finds all as before, or as after once the file was written`, async () => {
      const dryDir = folder(`killed ${scenario} dry`);
      await start(dryDir);
      const log = JSON.parse((await killedAt(dryDir, scenario, 'none')).stdout) as KeychainOp[];
      const commitAfter = log.findLastIndex((op) => !op.account.includes('/journal/')) + 1;
      const after = await outcome(dryDir, secretsOf(dryDir));
      const steps = log.map((_, i) => `before:${i + 1}`);
      const points = [...steps, 'before:settings', 'after:settings', `after:${log.length}`];
      for (const point of points) {
        const dir = folder(`killed ${scenario} ${point}`);
        await start(dir);
        const before = { files: snapshot(dir), secrets: secretsOf(dir) };
        expect((await killedAt(dir, scenario, point)).signal, point).toBe('SIGKILL');
        expect(snapshot(dir).has('settings.lock'), point).toBe(true); // the dead process's lock is still there
        const next = await cli(dir, ['profile', 'list', '--json']);
        expect(next.code, `${point}: ${next.stdout}${next.stderr}`).toBe(0);
        const [phase, step] = point.split(':');
        const committed = step === 'settings' ? phase === 'after' : Number(step) > commitAfter;
        if (committed) expect(await outcome(dir, secretsOf(dir)), point).toEqual(after);
        else expect({ files: snapshot(dir), secrets: secretsOf(dir) }, point).toEqual(before);
      }
      expect(() => process.kill(service.pid!, 0), 'gnome-keyring-daemon is still running').not.toThrow();
    }, 180_000);
  }
});

describe('the settings file', () => {
  it('refuses to touch a damaged settings file', async () => {
    const dataDir = folder('damaged');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'settings.json'), '{"version": 1, "profiles": [ {');
    const { profiles } = world(dataDir);
    const saved = profiles.save({ fields: { ...base, name: 'X', deviceId: 'x' }, secrets: {} });
    await expect(saved).rejects.toThrow(/is damaged \(not JSON\): move it away.*has not changed it/);
    expect(snapshot(dataDir).get('settings.json')?.toString()).toBe('{"version": 1, "profiles": [ {');
    writeFileSync(path.join(dataDir, 'settings.json'), '{"version": 7, "profiles": []}');
    await expect(profiles.list()).rejects.toThrow(/written by a newer Makerdeck \(settings version 7\)/);
  });

  it('upgrades a version 1 settings file and keeps its profiles', async () => {
    const dataDir = folder('v1');
    mkdirSync(dataDir);
    const old = { name: 'Old', board: 'arduino:avr:uno', wifiSsid: '', mqttHost: 'h', mqttPort: 1883, mqttTls: false };
    const rest = { mqttUsername: '', deviceId: 'old', telemetryIntervalS: 10, id: 'old', updatedAt: '2026-01-01' };
    const v1 = { version: 1, profiles: [{ ...old, ...rest }] };
    writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify(v1));
    const file = new SettingsFile(dataDir, new FolderKeychain(new Keychain(new Redactor()), dataDir));
    const upgraded = { ...v1, version: 4, environment: { kind: 'local' }, stack: { lanBroker: false } };
    expect(await file.load()).toEqual(upgraded);
    expect(JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8')).version).toBe(4);
  });

  it('serialises concurrent saves in one process: none is lost', async () => {
    const { profiles } = world(folder('concurrent'));
    const names = Array.from({ length: 8 }, (_, i) => `Concurrent ${i}`);
    const save = (name: string, i: number) =>
      profiles.save({ fields: { ...base, name, deviceId: `conc-${i}` }, secrets: { wifiPassword: `conc-wifi-${i}` } });
    await Promise.all(names.map(save));
    expect((await profiles.list()).map((p) => p.name).sort()).toEqual(names.sort());
  });
});

describe('stack credentials', () => {
  it("generates a random credential once, keeps it, and rotates it, in the folder's namespace", async () => {
    const dataDir = folder('stack');
    const keychain = new FolderKeychain(new Keychain(new Redactor()), dataDir);
    const credentials = new StackCredentials(keychain, new SettingsFile(dataDir, keychain).lock);
    const name = `test-admin-${process.pid}`;
    expect(await credentials.get(name)).toBeUndefined();
    const first = await credentials.ensure(name);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(await credentials.ensure(name)).toBe(first);
    expect(await folderSecrets(dataDir)).toEqual({ [`stack/${name}`]: first });
    const rotated = await credentials.rotate(name);
    expect(rotated).not.toBe(first);
    expect(await credentials.get(name)).toBe(rotated);
    await expect(credentials.get('Bad Name')).rejects.toThrow(/not a credential name/);
  });

  it('copies the credential an earlier Makerdeck kept for every folder, and leaves that one in place', async () => {
    const raw = new Keychain(new Redactor());
    const name = `legacy-admin-${process.pid}`;
    await raw.set(`stack/${name}`, 'legacy-stack-secret');
    try {
      for (const dataDir of [folder('legacy stack a'), folder('legacy stack b')]) {
        const keychain = new FolderKeychain(raw, dataDir);
        const credentials = new StackCredentials(keychain, new SettingsFile(dataDir, keychain).lock);
        expect(await credentials.ensure(name)).toBe('legacy-stack-secret');
        expect(await raw.get(folderAccount(dataDir, `stack/${name}`))).toBe('legacy-stack-secret');
      }
      expect(await raw.get(`stack/${name}`)).toBe('legacy-stack-secret');
    } finally {
      await raw.delete(`stack/${name}`);
    }
  });
});
