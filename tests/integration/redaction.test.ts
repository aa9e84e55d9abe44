// One redactor guards every output path. Store a profile, drive every path there is, then look
// for the secrets (raw, URL-encoded, base64) in all output and in every file Makerdeck wrote.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHost } from '../../electron/core/host';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { findSecrets, snapshot } from '../support/files';
import { startServe } from '../support/serve';
import { until } from '../support/wait';

const WIFI = 'Redact-Me-Wifi 42';
const MQTT = 'redact/me:mqtt@pw%';
const PASSPHRASE = 'redact-passphrase-7';
const SECRETS = [WIFI, MQTT, PASSPHRASE];

let dataDir: string;
let exportDir: string;
const outputs: Array<[string, string]> = [];
const record = (where: string, ...texts: string[]) => texts.forEach((text, i) => outputs.push([`${where}#${i}`, text]));

async function cli(args: string[], input?: string) {
  const result = await runCli(args, { MAKERDECK_DATA_DIR: dataDir }, { input });
  record(`makerdeck ${args.join(' ')}`, result.stdout, result.stderr);
  return result;
}

beforeAll(async () => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-redact-'));
  exportDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-redact-out-'));
  const set = await cli(
    [
      'profile',
      'set',
      'Redact Bench',
      '--board',
      'esp8266:esp8266:nodemcuv2',
      '--ssid',
      'lab',
      '--mqtt-host',
      'broker.lan',
      '--device-id',
      'redact-1',
      '--wifi-password',
      '--mqtt-password',
    ],
    `${WIFI}\n${MQTT}\n`,
  );
  expect(set.code).toBe(0);
});

afterAll(async () => {
  await runCli(['profile', 'rm', 'redact-bench'], { MAKERDECK_DATA_DIR: dataDir });
  await runCli(['profile', 'rm', 'redact-copy'], { MAKERDECK_DATA_DIR: dataDir });
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(exportDir, { recursive: true, force: true });
});

describe('no secret leaves through any output path', () => {
  it('CLI: every profile command, text and --json, success and error', async () => {
    const plain = path.join(exportDir, 'plain.json');
    const sealed = path.join(exportDir, 'sealed.json');
    for (const json of [[], ['--json']]) {
      await cli(['profile', 'list', ...json]);
      await cli(['profile', 'show', 'redact-bench', ...json]);
      await cli(['profile', 'set', 'redact-bench', '--interval', '30', ...json]);
      await cli(['profile', 'show', MQTT, ...json]); // a secret used as a name: the error must mask it
      await cli(['profile', 'set', 'redact-bench', '--wifi-password', ...json], `${'x'.repeat(70)}${WIFI}\n`); // refused
      await cli(['doctor', ...json]);
      await cli(['--help', ...json]);
    }
    await cli(['profile', 'export', 'redact-bench', plain]);
    await cli(['profile', 'export', 'redact-bench', sealed, '--encrypt', '--json'], `${PASSPHRASE}\n${PASSPHRASE}\n`);
    await cli(['profile', 'import', sealed, '--name', 'Redact Copy', '--json'], `${PASSPHRASE}\n`);
    await cli(['profile', 'import', sealed, '--name', 'Redact Wrong'], 'not-the-passphrase\n');
    await cli(['profile', 'duplicate', 'redact-bench', 'Redact Dup']);
    await cli(['profile', 'rm', 'redact-dup', '--json']);
    record('export plain', readFileSync(plain, 'utf8'));
    record('export sealed', readFileSync(sealed, 'utf8'));
    expect(outputs.length).toBeGreaterThan(40);
    expect(outputs.some(([, text]) => text.includes('••••'))).toBe(true); // masks were really applied
  }, 90_000); // 20 CLI runs, two doctors and two scrypt derivations: 24 s alone, more beside other files

  it('browser mode: replies, events and the server log over the WebSocket', async () => {
    const served = await startServe({ MAKERDECK_DATA_DIR: dataDir });
    const frames: string[] = [];
    try {
      const ws = new WebSocket(`${served.origin.replace('http', 'ws')}/ws?token=${served.token}`, {
        origin: served.origin,
      });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.on('message', (data) => frames.push(data.toString()));
      const calls = [
        ['profiles.list', {}],
        ['profiles.get', { ref: 'redact-bench' }],
        ['profiles.get', { ref: WIFI }],
        ['profiles.save', { ref: 'redact-bench', fields: { telemetryIntervalS: 20 }, secrets: { mqttPassword: MQTT } }],
        ['profiles.save', { ref: 'redact-bench', secrets: { wifiPassword: `${WIFI}${'y'.repeat(60)}` } }],
        ['profiles.export', { ref: 'redact-bench', passphrase: PASSPHRASE }],
        ['profiles.export', { ref: 'redact-bench' }],
        ['doctor.run', { only: ['keychain'] }],
      ] as const;
      calls.forEach(([name, args], id) => ws.send(JSON.stringify({ type: 'call', id, name, args })));
      const replies = () => frames.filter((f) => f.includes('"type":"reply"'));
      await until('a reply to every call', () => replies().length >= calls.length, 10_000);
      expect(replies()).toHaveLength(calls.length);
      expect(frames.some((f) => f.includes('profiles.changed'))).toBe(true);
      ws.close();
    } finally {
      await served.stop();
    }
    record('websocket frames', ...frames);
  });

  it('in-process host: log lines (stderr and log events), events and results', async () => {
    const host = createHost({ kind: 'web', dataDir, quiet: true });
    await host.loadSecrets();
    const events: unknown[] = [];
    host.bus.onAny((name, payload) => events.push({ name, payload }));
    host.logger.log(
      'error',
      `broker refused mqtt://redact:${encodeURIComponent(MQTT)}@localhost, wifi ${WIFI}, b64 ${Buffer.from(WIFI).toString('base64')}`,
    );
    const reply = await host.call('profiles.get', { ref: 'redact-bench' });
    record('host events', JSON.stringify(events));
    record('host reply', JSON.stringify(reply));
    expect(JSON.stringify(events)).toContain('broker refused');
  });

  it('finds none of the secrets in any output, nor in any file under the data folder or the exports', () => {
    const leaks = outputs.flatMap(([where, text]) => findSecrets(where, text, SECRETS));
    for (const [name, bytes] of snapshot(dataDir, { includeLogs: true }))
      leaks.push(...findSecrets(`data/${name}`, bytes, SECRETS));
    for (const [name, bytes] of snapshot(exportDir)) leaks.push(...findSecrets(`exports/${name}`, bytes, SECRETS));
    expect(leaks).toEqual([]);
  });
});
