// The active environment (local stack or attached services) with the real Secret Service.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentView } from '../../electron/contract';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { findSecrets, secretToolLookup, snapshot } from '../support/files';
import { folderAccount } from '../support/keychain';

let dataDir: string;
const env = () => ({ MAKERDECK_DATA_DIR: dataDir });

beforeAll(() => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-env-'));
});
afterAll(async () => {
  await runCli(['env', 'local'], env());
  rmSync(dataDir, { recursive: true, force: true });
});

describe('makerdeck env', () => {
  it("starts on the local stack's endpoints", async () => {
    const shown = JSON.parse((await runCli(['env', 'show', '--json'], env())).stdout) as EnvironmentView;
    expect(shown).toMatchObject({
      kind: 'local',
      mqtt: { url: 'mqtt://127.0.0.1:1883' },
      influx: { url: 'http://127.0.0.1:8086', database: 'makerdeck' },
    });
  });

  it("attaches a lab's broker and InfluxDB: URLs in settings, passwords only in the keychain", async () => {
    const result = await runCli(
      [
        'env',
        'attach',
        '--mqtt-url',
        'mqtts://lab.example:8883',
        '--mqtt-user',
        'class',
        '--influx-url',
        'https://lab.example:8086',
        '--influx-db',
        'class/autogen',
        '--mqtt-password',
        '--influx-password',
        '--json',
      ],
      env(),
      { input: 'lab-mqtt-secret\nlab-influx-token\n' },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      kind: 'attached',
      mqtt: { url: 'mqtts://lab.example:8883', username: 'class', passwordSet: true },
      influx: { database: 'class/autogen', passwordSet: true },
    });
    expect(secretToolLookup(folderAccount(dataDir, 'environment/mqtt-password'))).toBe('lab-mqtt-secret');
    expect(secretToolLookup(folderAccount(dataDir, 'environment/influx-password'))).toBe('lab-influx-token');
    expect(JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8')).environment).toMatchObject({
      kind: 'attached',
      mqttUrl: 'mqtts://lab.example:8883',
    });
    for (const [name, bytes] of snapshot(dataDir, { includeLogs: true }))
      expect(findSecrets(name, bytes, ['lab-mqtt-secret', 'lab-influx-token'])).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain('lab-');
  });

  it('refuses credentials inside a URL and a URL of the wrong kind, changing nothing', async () => {
    const before = snapshot(dataDir);
    for (const [url, flag] of [
      ['mqtt://user:pw@lab:1883', '--mqtt-url'],
      ['http://lab:1883', '--mqtt-url'],
      ['ftp://lab', '--influx-url'],
    ] as const) {
      const args = [
        'env',
        'attach',
        '--mqtt-url',
        'mqtt://lab:1883',
        '--influx-url',
        'http://lab:8086',
        '--influx-db',
        'db',
      ];
      args[args.indexOf(flag) + 1] = url;
      const result = await runCli(args, env());
      expect(result.code, url).toBe(2);
      expect(result.stderr.trim().split('\n'), url).toHaveLength(1);
      expect(result.stderr).toMatch(/URL must look like/);
    }
    expect(snapshot(dataDir)).toEqual(before);
  });

  it('goes back to the local stack', async () => {
    const result = await runCli(['env', 'local', '--json'], env());
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: 'local' });
  });
});
