// `makerdeck profile …` against the real Secret Service started by `npm test`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfileView } from '../../electron/contract';
import { lanAddresses } from '../../electron/core/stack/lanAddresses';
import { requireCommand } from '../../scripts/services/apt.js';
import { lockKeyring, startSecretService, startSessionBus } from '../../scripts/services/keyring.js';
import { runCli, type CliResult } from '../support/cli';
import { repoRoot, requiredEnv } from '../support/env';
import { findSecrets, secretToolLookup, snapshot } from '../support/files';
import { folderAccount } from '../support/keychain';

const WIFI = 'cli-wifi-Pa55word';
const MQTT = 'cli-mqtt-ü-secret';
let dataDir: string;
const env = () => ({ MAKERDECK_DATA_DIR: dataDir });
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string | Buffer) =>
  runCli(args, { ...env(), ...extra }, { input });

function oneLineError(result: CliResult): string {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^makerdeck: /);
  return lines[0]!;
}

beforeAll(async () => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-profiles-'));
  const created = await cli(
    [
      'profile',
      'set',
      'CLI Bench',
      '--board',
      'esp32:esp32:esp32',
      '--ssid',
      'makerspace',
      '--mqtt-host',
      'broker.lan',
      '--mqtt-user',
      'dev',
      '--device-id',
      'cli-bench',
      '--wifi-password',
      '--mqtt-password',
    ],
    {},
    `${WIFI}\n${MQTT}\n`,
  );
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
});
afterAll(async () => {
  await cli(['profile', 'rm', 'cli-bench']);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('makerdeck profile with a real Secret Service', () => {
  it('stores the secrets in the keyring, where secret-tool finds them, and nowhere under the data folder', () => {
    expect(secretToolLookup(folderAccount(dataDir, 'cli-bench/wifi-password'))).toBe(WIFI);
    expect(secretToolLookup(folderAccount(dataDir, 'cli-bench/mqtt-password'))).toBe(MQTT);
    const files = snapshot(dataDir);
    expect([...files.keys()]).toEqual(['settings.json']);
    for (const [name, bytes] of files) expect(findSecrets(name, bytes, [WIFI, MQTT])).toEqual([]);
    const settings = JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8'));
    const profiles = [{ id: 'cli-bench', wifiSsid: 'makerspace' }];
    expect(settings).toMatchObject({
      version: 4,
      environment: { kind: 'local' },
      stack: { lanBroker: false },
      profiles,
    });
  });

  it('shows secrets only as set, in text and in --json', async () => {
    const text = await cli(['profile', 'show', 'CLI Bench']);
    expect(text.stdout).toMatch(/Wi-Fi password {2}•+ \(set\)/);
    const json = await cli(['profile', 'show', 'cli-bench', '--json']);
    const shown = JSON.parse(json.stdout) as ProfileView;
    expect(shown.secrets).toEqual({ wifiPassword: true, mqttPassword: true });
    for (const out of [text.stdout, json.stdout, text.stderr, json.stderr])
      expect(findSecrets('output', out, [WIFI, MQTT])).toEqual([]);
  });

  it('changes one field and keeps the stored secrets', async () => {
    const result = await cli(['profile', 'set', 'cli-bench', '--mqtt-port', '8883', '--tls', '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({
      mqttPort: 8883,
      mqttTls: true,
      secrets: { wifiPassword: true, mqttPassword: true },
    });
    expect(secretToolLookup(folderAccount(dataDir, 'cli-bench/wifi-password'))).toBe(WIFI);
  });

  it('refuses bad input in one clear line with exit 2 and changes nothing', async () => {
    const before = snapshot(dataDir);
    const cases: Array<[string[], string | Buffer | undefined, RegExp]> = [
      [['profile', 'set', 'cli-bench', '--mqtt-port', '0'], undefined, /from 1 to 65535/],
      [['profile', 'set', 'cli-bench', '--mqtt-host', 'not a host'], undefined, /host name/],
      [['profile', 'set', 'cli-bench', '--ssid', 'x'.repeat(33)], undefined, /at most 32 bytes/],
      [['profile', 'set', 'cli-bench', '--wifi-password'], 'short\n', /at least 8/],
      [['profile', 'set', 'cli-bench', '--wifi-password'], `${'x'.repeat(64)}\n`, /at most 63/],
      [['profile', 'set', 'cli-bench', '--wifi-password'], Buffer.from([0xff, 0xfe, 0x41, 0x0a]), /not valid UTF-8/],
      [['profile', 'set', 'cli-bench', '--rename', ''], undefined, /must not be empty/],
      [
        ['profile', 'set', 'x'.repeat(65), '--board', 'arduino:avr:uno', '--mqtt-host', 'h', '--device-id', 'd'],
        undefined,
        /at most 64/,
      ],
      [['profile', 'set', 'cli-bench', '--wifi-password=hunter22hunter'], undefined, /takes no value/],
      [['profile', 'set', 'cli-bench', 'hunter22hunter'], undefined, /Too many arguments/],
    ];
    for (const [args, input, message] of cases) {
      const result = await cli(args, {}, input);
      expect(oneLineError(result), args.join(' ')).toMatch(message);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).not.toContain('hunter22');
    }
    expect(snapshot(dataDir)).toEqual(before);
    expect(secretToolLookup(folderAccount(dataDir, 'cli-bench/wifi-password'))).toBe(WIFI);
  });

  it('round-trips an encrypted export and refuses a wrong passphrase without importing anything', async () => {
    const file = path.join(dataDir, '..', `makerdeck-export-${process.pid}.json`);
    try {
      expect(
        (await cli(['profile', 'export', 'cli-bench', file, '--encrypt'], {}, 'class-of-2026\nclass-of-2026\n')).code,
      ).toBe(0);
      expect(findSecrets('export', readFileSync(file), [WIFI, MQTT])).toEqual([]);
      const before = snapshot(dataDir);
      const wrong = await cli(['profile', 'import', file, '--name', 'CLI Copy'], {}, 'class-of-2025\n');
      expect(oneLineError(wrong)).toMatch(/Wrong passphrase/);
      expect(snapshot(dataDir)).toEqual(before);
      const right = await cli(['profile', 'import', file, '--name', 'CLI Copy', '--json'], {}, 'class-of-2026\n');
      const imported = JSON.parse(right.stdout) as ProfileView;
      // Its device id is CLI Bench's: imported, with a warning that names that profile.
      expect(right.stderr).toMatch(
        /^makerdeck: warning: The device id "cli-bench" is used by the profile "CLI Bench" already/,
      );
      expect(imported).toMatchObject({
        name: 'CLI Copy',
        mqttPort: 8883,
        secrets: { wifiPassword: true, mqttPassword: true },
      });
      expect(secretToolLookup(folderAccount(dataDir, `${imported.id}/wifi-password`))).toBe(WIFI);
      expect(secretToolLookup(folderAccount(dataDir, `${imported.id}/mqtt-password`))).toBe(MQTT);
      expect((await cli(['profile', 'rm', imported.id])).code).toBe(0);
      expect(secretToolLookup(folderAccount(dataDir, `${imported.id}/wifi-password`))).toBeUndefined();
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('reads the export passphrase twice and refuses two different ones, writing nothing', async () => {
    const file = path.join(dataDir, '..', `makerdeck-typo-${process.pid}.json`);
    const typo = await cli(['profile', 'export', 'cli-bench', file, '--encrypt'], {}, 'class-of-2026\nclass-of-2062\n');
    expect(oneLineError(typo)).toBe(
      'makerdeck: The two passphrases differ: nothing was exported; type the same one twice',
    );
    expect(typo.code).toBe(2);
    const once = await cli(['profile', 'export', 'cli-bench', file, '--encrypt'], {}, 'class-of-2026\n');
    expect(oneLineError(once)).toMatch(/Expected the same passphrase again on its own line of stdin/);
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  it('refuses a loopback MQTT host on a Wi-Fi board with the reason, and needs none on an Uno', async () => {
    const before = snapshot(dataDir);
    const loop = await cli(['profile', 'set', 'cli-bench', '--mqtt-host', '127.0.0.1']);
    expect(oneLineError(loop)).toMatch(
      /^makerdeck: A board connects to itself at 127\.0\.0\.1: use this computer's LAN address, e\.g\. [\d.]+$/,
    );
    expect(loop.code).toBe(2);
    expect(snapshot(dataDir)).toEqual(before);

    const uno = await cli(['profile', 'set', 'CLI Uno', '--board', 'arduino:avr:uno', '--device-id', 'cli-uno']);
    expect(uno.code, uno.stderr).toBe(0);
    expect(uno.stdout).toContain('MQTT broker     (none: the serial gateway publishes from this computer)');
    // A new Wi-Fi board without --mqtt-host gets this computer's LAN address, or is refused without one.
    const esp = await cli([
      'profile',
      'set',
      'CLI ESP',
      '--board',
      'esp8266:esp8266:nodemcuv2',
      '--device-id',
      'cli-esp',
    ]);
    const lan = lanAddresses()[0];
    if (lan === undefined) expect(oneLineError(esp)).toMatch(/MQTT host: it is required for a Wi-Fi board/);
    else {
      expect(esp.code, esp.stderr).toBe(0);
      expect(esp.stderr).toBe(`makerdeck: MQTT host ${lan}, this computer's LAN address (--mqtt-host sets another)\n`);
      expect(esp.stdout).toContain(`MQTT broker     ${lan}:1883`);
      expect((await cli(['profile', 'rm', 'cli-esp'])).code).toBe(0);
    }
    expect((await cli(['profile', 'rm', 'cli-uno'])).code).toBe(0);
  });

  it('refuses to import a Wi-Fi profile with a loopback host unless --mqtt-host replaces it', async () => {
    const file = path.join(dataDir, '..', `makerdeck-loopback-${process.pid}.json`);
    const profile = {
      name: 'Old Class',
      board: 'esp32:esp32:esp32',
      wifiSsid: 'lab',
      mqttHost: 'localhost',
      mqttPort: 1883,
      mqttTls: false,
      mqttUsername: '',
      deviceId: 'old-class',
      telemetryIntervalS: 10,
    };
    writeFileSync(file, JSON.stringify({ format: 'makerdeck-profile', version: 1, profile }));
    try {
      const before = snapshot(dataDir);
      const refused = await cli(['profile', 'import', file]);
      expect(oneLineError(refused)).toMatch(/itself at localhost: .*--mqtt-host ADDRESS.*Nothing was imported$/);
      expect(snapshot(dataDir)).toEqual(before);
      const fixed = await cli(['profile', 'import', file, '--mqtt-host', '192.168.1.20', '--json']);
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(JSON.parse(fixed.stdout)).toMatchObject({ name: 'Old Class', mqttHost: '192.168.1.20', warnings: [] });
      expect((await cli(['profile', 'rm', 'old-class'])).code).toBe(0);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('exports without secrets unless asked', async () => {
    const file = path.join(dataDir, '..', `makerdeck-plain-${process.pid}.json`);
    try {
      await cli(['profile', 'export', 'cli-bench', file]);
      const content = JSON.parse(readFileSync(file, 'utf8'));
      expect(content.secrets).toBeUndefined();
      expect(content.profile.name).toBe('CLI Bench');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('asks for a secret at a hidden prompt on a terminal and does not echo it (a real pty via script(1))', async () => {
    const secret = 'typed-at-the-prompt-1';
    const command = `${process.execPath} ${path.join(repoRoot, 'bin', 'makerdeck.js')} profile set cli-bench --wifi-password`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, ...env() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (chunk) => {
      screen += chunk;
      if (screen.includes('Wi-Fi password: ') && !child.stdin.writableEnded) child.stdin.end(`${secret}\r`);
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(screen).toContain('Updated profile "CLI Bench"');
    expect(screen).not.toContain(secret);
    expect(secretToolLookup(folderAccount(dataDir, 'cli-bench/wifi-password'))).toBe(secret);
    await cli(['profile', 'set', 'cli-bench', '--wifi-password'], {}, `${WIFI}\n`);
  });

  it('says which profile is missing (exit 1)', async () => {
    const result = await cli(['profile', 'show', 'nope']);
    expect(oneLineError(result)).toMatch(/No profile "nope"/);
    expect(result.code).toBe(1);
  });
});

describe('makerdeck profile without a usable keychain', () => {
  const every = (file: string): string[][] => [
    ['profile', 'list'],
    ['profile', 'show', 'cli-bench'],
    ['profile', 'set', 'cli-bench', '--mqtt-port', '1884'],
    ['profile', 'set', 'Another', '--board', 'arduino:avr:uno', '--mqtt-host', 'h', '--device-id', 'another'],
    ['profile', 'duplicate', 'cli-bench', 'Dup'],
    ['profile', 'rm', 'cli-bench'],
    ['profile', 'export', 'cli-bench', file, '--encrypt'],
  ];

  it('fails every profile command in one clear line when no Secret Service runs, and changes nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-nosecrets-'));
    const bus = await startSessionBus({ dir });
    try {
      const before = snapshot(dataDir);
      for (const args of every(path.join(dir, 'out.json'))) {
        // Twice: the encrypted export reads its passphrase again before it reaches the keychain.
        const input = 'passphrase-123\npassphrase-123\n';
        const result = await cli([...args], { DBUS_SESSION_BUS_ADDRESS: bus.address }, input);
        const missing = /No Secret Service on the session bus: nothing there provides org\.freedesktop\.secrets.*gnome/;
        expect(oneLineError(result), args.join(' ')).toMatch(missing);
        expect(result.code, args.join(' ')).toBe(3);
      }
      expect(snapshot(dataDir)).toEqual(before);
    } finally {
      await bus.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails in one line when the bus would start a Secret Service that never comes up; changes nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-hung-secrets-'));
    // The bus runs this for org.freedesktop.secrets and waits for the name (25 s, then again per call).
    const [setpriv, sleep] = [requireCommand('setpriv', 'util-linux'), requireCommand('sleep', 'coreutils')];
    const never = `${setpriv} --pdeathsig TERM -- ${sleep} 600`;
    const bus = await startSessionBus({ dir, activatable: { 'org.freedesktop.secrets': never } });
    try {
      const before = snapshot(dataDir);
      const args = ['profile', 'set', 'cli-bench', '--wifi-password'];
      const result = await cli(args, { DBUS_SESSION_BUS_ADDRESS: bus.address }, 'a-new-password\n');
      const line = oneLineError(result);
      expect(line).toMatch(/No Secret Service on the session bus: org\.freedesktop\.secrets did not start within 4 s/);
      expect(line).toMatch(/gnome-keyring.*\(makerdeck doctor checks it\)/);
      expect(result.code).toBe(3);
      expect(snapshot(dataDir)).toEqual(before);
    } finally {
      await bus.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains a locked keyring and changes nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-locked-'));
    const service = await startSecretService({ dir });
    try {
      await lockKeyring(service.env);
      const before = snapshot(dataDir);
      const result = await cli(['profile', 'set', 'cli-bench', '--wifi-password'], service.env, 'a-new-password\n');
      expect(oneLineError(result)).toMatch(/The keyring is locked\. Unlock it/);
      expect(snapshot(dataDir)).toEqual(before);
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
