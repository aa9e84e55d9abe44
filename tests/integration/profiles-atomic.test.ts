// Nothing lost, nothing half-done: a save that fails part-way leaves the settings file and the
// real keychain exactly as they were.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Profiles } from '../../electron/core/profiles/profiles';
import { Keychain } from '../../electron/core/secrets/keychain';
import { Redactor } from '../../electron/core/secrets/redactor';
import { StackCredentials } from '../../electron/core/secrets/stackCredentials';
import { SettingsFile } from '../../electron/core/settings/settingsFile';
import { requiredEnv } from '../support/env';
import { secretToolLookup, snapshot } from '../support/files';

/** Fault injection over the real keychain: the Nth write is refused, as a locked or full keychain would. */
class KeychainRefusingWrite extends Keychain {
  writes = 0;
  constructor(private readonly failAt: number) {
    super(new Redactor());
  }
  override async set(account: string, value: string): Promise<void> {
    this.writes += 1;
    if (this.writes === this.failAt) throw new Error('injected: the keychain refused the write');
    return super.set(account, value);
  }
}

const base = { board: 'esp32:esp32:esp32', wifiSsid: 'atomic-net', mqttHost: 'broker.lan', deviceId: 'atomic-1' };
let root: string;

beforeAll(() => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  root = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-atomic-'));
});
afterAll(async () => {
  const cleanup = new Profiles(new SettingsFile(path.join(root, 'keychain-fault')), new Keychain(new Redactor()), new Redactor());
  await cleanup.remove('atomic-bench').catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

describe('a save that fails part-way', () => {
  it('undoes the first secret when the keychain refuses the second (fault-injecting wrapper over the real keyring)', async () => {
    const dataDir = path.join(root, 'keychain-fault');
    const real = new Profiles(new SettingsFile(dataDir), new Keychain(new Redactor()), new Redactor());
    await real.save({ fields: { ...base, name: 'Atomic Bench' }, secrets: { wifiPassword: 'old-wifi-pass', mqttPassword: 'old-mqtt-pass' } });
    const before = snapshot(dataDir);

    const faulty = new KeychainRefusingWrite(2);
    const profiles = new Profiles(new SettingsFile(dataDir), faulty, new Redactor());
    await expect(profiles.save({ ref: 'atomic-bench', fields: { mqttPort: 8883 }, secrets: { wifiPassword: 'new-wifi-pass', mqttPassword: 'new-mqtt-pass' } })).rejects.toThrow(
      /keychain refused the write/,
    );
    expect(faulty.writes).toBeGreaterThanOrEqual(3); // the refused write, then the undo of the first
    expect(snapshot(dataDir)).toEqual(before);
    expect(secretToolLookup('atomic-bench/wifi-password')).toBe('old-wifi-pass');
    expect(secretToolLookup('atomic-bench/mqtt-password')).toBe('old-mqtt-pass');
    expect((await real.get('atomic-bench')).mqttPort).toBe(1883);
  });

  it('undoes the keychain changes when the disk is full (a real 64 KiB tmpfs, filled up)', async () => {
    const mount = path.join(root, 'full-disk');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    try {
      const dataDir = path.join(mount, 'data');
      const keychain = new Keychain(new Redactor());
      const profiles = new Profiles(new SettingsFile(dataDir), keychain, new Redactor());
      await profiles.save({ fields: { ...base, name: 'Disk Bench', deviceId: 'disk-1' }, secrets: { mqttPassword: 'disk-old-mqtt' } });
      const before = snapshot(dataDir);
      // Fill the filesystem so the next settings write hits ENOSPC.
      try {
        writeFileSync(path.join(mount, 'filler'), Buffer.alloc(128 * 1024));
      } catch {
        // ENOSPC once the tmpfs is full: exactly what we want
      }
      await expect(profiles.save({ ref: 'disk-bench', fields: { telemetryIntervalS: 60 }, secrets: { mqttPassword: 'disk-new-mqtt', wifiPassword: 'disk-new-wifi' } })).rejects.toThrow(
        /Cannot save .*settings\.json: the disk is full\. Nothing was changed\./,
      );
      expect(snapshot(dataDir)).toEqual(before);
      expect(secretToolLookup('disk-bench/mqtt-password')).toBe('disk-old-mqtt');
      expect(secretToolLookup('disk-bench/wifi-password')).toBeUndefined();
      rmSync(path.join(mount, 'filler'));
      await profiles.remove('disk-bench');
      expect(secretToolLookup('disk-bench/mqtt-password')).toBeUndefined();
    } finally {
      execFileSync('umount', [mount]);
    }
  });

  it('refuses to touch a damaged settings file', async () => {
    const dataDir = path.join(root, 'damaged');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'settings.json'), '{"version": 1, "profiles": [ {');
    const profiles = new Profiles(new SettingsFile(dataDir), new Keychain(new Redactor()), new Redactor());
    await expect(profiles.save({ fields: { ...base, name: 'X', deviceId: 'x' }, secrets: {} })).rejects.toThrow(/is damaged \(not JSON\): move it away.*has not changed it/);
    expect(snapshot(dataDir).get('settings.json')?.toString()).toBe('{"version": 1, "profiles": [ {');
    writeFileSync(path.join(dataDir, 'settings.json'), '{"version": 7, "profiles": []}');
    await expect(profiles.list()).rejects.toThrow(/written by a newer Makerdeck \(settings version 7\)/);
  });

  it('upgrades a version 1 settings file and keeps its profiles', async () => {
    const dataDir = path.join(root, 'v1');
    mkdirSync(dataDir);
    const v1 = { version: 1, profiles: [{ name: 'Old', board: 'arduino:avr:uno', wifiSsid: '', mqttHost: 'h', mqttPort: 1883, mqttTls: false, mqttUsername: '', deviceId: 'old', telemetryIntervalS: 10, id: 'old', updatedAt: '2026-01-01T00:00:00.000Z' }] };
    writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify(v1));
    const file = new SettingsFile(dataDir);
    expect(await file.load()).toEqual({ ...v1, version: 2, environment: { kind: 'local' } });
  });

  it('serialises concurrent saves in one process: none is lost', async () => {
    const dataDir = path.join(root, 'concurrent');
    const profiles = new Profiles(new SettingsFile(dataDir), new Keychain(new Redactor()), new Redactor());
    const names = Array.from({ length: 8 }, (_, i) => `Concurrent ${i}`);
    await Promise.all(names.map((name, i) => profiles.save({ fields: { ...base, name, deviceId: `conc-${i}` }, secrets: {} })));
    expect((await profiles.list()).map((p) => p.name).sort()).toEqual(names.sort());
  });
});

describe('stack credentials', () => {
  it('generates a random credential once, keeps it, and rotates it, all in the real keyring', async () => {
    const credentials = new StackCredentials(new Keychain(new Redactor()));
    const name = `test-admin-${process.pid}`;
    try {
      expect(await credentials.get(name)).toBeUndefined();
      const first = await credentials.ensure(name);
      expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
      expect(await credentials.ensure(name)).toBe(first);
      expect(secretToolLookup(`stack/${name}`)).toBe(first);
      const rotated = await credentials.rotate(name);
      expect(rotated).not.toBe(first);
      expect(await credentials.get(name)).toBe(rotated);
      await expect(credentials.get('Bad Name')).rejects.toThrow(/not a credential name/);
    } finally {
      await new Keychain(new Redactor()).delete(`stack/${name}`);
    }
  });
});
