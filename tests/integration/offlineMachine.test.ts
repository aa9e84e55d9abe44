// The offline laptop harness (tests/support/offlineMachine.ts) proven with commands that exist without a
// lab pack: its network is loopback only, its tracer sees a connect that leaves loopback, and today's
// commands run there — an encrypted profile imported, a compile with a hand-made arduino-cli
// configuration, `stack up` with the rig's images `docker load`ed, a release to the emulated Uno.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileSummary, DoctorReport, FlashSummary, ProfileView } from '../../electron/contract';
import { ensureBoardPackage } from '../../scripts/rig/boardIndex.js';
import { defaultRigCache } from '../../scripts/rig/common.js';
import { ensureStackImages } from '../../scripts/rig/stackImages/cache.js';
import { startBoardIndexServer, type BoardIndexServer } from '../support/boardIndexServer';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { freshArduinoConfig } from '../support/freshArduinoConfig';
import { secretToolFolderSecrets } from '../support/keychain';
import { describeAttempt } from '../support/networkAttempts';
import { LAPTOP_PATH, startOfflineMachine, stepTable, type OfflineMachine } from '../support/offlineMachine';
import { scratchEnv } from '../support/scratchEnv';
import { startUno, type EmulatedUno } from '../support/uno';

const CORE = 'makerdeckavr:avr';
const FQBN = 'makerdeckavr:avr:uno';
const PASSPHRASE = 'offline harness passphrase 7Qe';
const SECRETS = { wifi: 'harness-wifi-Vb81q', mqtt: 'harness-mqtt-Kx27d' };
let scratch: string;
let server: BoardIndexServer;
let machine: OfflineMachine;
let uno: EmulatedUno;
let arduinoHome: string;
let arduinoConfig: string;

beforeAll(async () => {
  const rigCli = requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-offline-harness-'));
  server = await startBoardIndexServer(await ensureBoardPackage({ cacheDir: defaultRigCache(), log: () => {} }));
  // On the connected side: a hand-made arduino-cli home with the core installed from the loopback index.
  arduinoHome = path.join(scratch, 'arduino');
  arduinoConfig = freshArduinoConfig(arduinoHome);
  const online = {
    ...scratchEnv(path.join(scratch, 'online')),
    MAKERDECK_ARDUINO_CLI: rigCli,
    MAKERDECK_ARDUINO_CLI_CONFIG: arduinoConfig,
  };
  for (const args of [
    ['boards', 'index', '--add', server.url('good')],
    ['boards', 'install', CORE],
  ]) {
    const result = await runCli(args, online, { timeoutMs: 180_000 });
    expect(result.code, result.stderr).toBe(0);
  }
  mkdirSync(path.join(arduinoHome, 'bin'));
  symlinkSync(rigCli, path.join(arduinoHome, 'bin', 'arduino-cli'));
  machine = await startOfflineMachine();
  uno = await startUno(path.join(scratch, 'uno'));
}, 600_000);

afterAll(async () => {
  if (machine) console.log(`offline laptop, step by step:\n${stepTable(machine.steps)}`);
  await uno?.stop();
  await machine?.stop();
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the offline laptop (network namespace, loopback only)', () => {
  it('has loopback and Docker’s own bridge only, and no route off this machine', async () => {
    const { links, routes } = await machine.network();
    const names = links.map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]);
    expect(names.filter((n) => n !== 'lo' && n !== 'docker0')).toEqual([]);
    expect(links.find((l) => /^\d+: lo:/.test(l))).toMatch(/[<,]UP[,>]/);
    expect(routes.filter((r) => r.startsWith('default'))).toEqual([]);
  });

  it('sees a connect that leaves loopback, and it fails at once (positive control for the tracer)', async () => {
    const probe = [
      "const s = require('net').connect(53, '192.0.2.1');",
      "s.on('error', (e) => { console.log(e.code); require('dns').lookup('example.com', (e2) => console.log(e2.code)); });",
    ].join('');
    const step = await machine.exec('probe: connect 192.0.2.1 + DNS', [process.execPath, '-e', probe]);
    expect(step.stdout.trim().split('\n')).toEqual(['ENETUNREACH', expect.stringMatching(/^(EAI_AGAIN|ENOTFOUND)$/)]);
    expect(step.offLoopback.map(describeAttempt)).toContain('connect 192.0.2.1:53 (ENETUNREACH)');
    expect(step.ms).toBeGreaterThan(0);
  });

  it('runs the doctor against its own dockerd and Secret Service, touching nothing off loopback', async () => {
    const step = await machine.run('doctor', ['doctor', '--json']);
    const report = JSON.parse(step.stdout) as DoctorReport;
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    expect(status).toMatchObject({ docker: 'ok', keychain: 'ok' });
    expect(step.offLoopback.map(describeAttempt)).toEqual([]);
  });
});

describe("today's commands on the offline laptop (before lab packs)", () => {
  it('imports an encrypted profile export: the secrets reach its keychain, nothing off loopback', async () => {
    const online = scratchEnv(path.join(scratch, 'online'));
    const set = await runCli(
      [
        'profile',
        'set',
        'Harness Uno',
        '--board',
        'arduino:avr:uno',
        '--ssid',
        'lab',
        '--mqtt-host',
        'localhost',
      ].concat(['--device-id', 'harness-uno-1', '--interval', '1', '--wifi-password', '--mqtt-password']),
      online,
      { input: `${SECRETS.wifi}\n${SECRETS.mqtt}\n` },
    );
    expect(set.code, set.stderr).toBe(0);
    const file = path.join(scratch, 'harness-uno.json');
    const exported = await runCli(['profile', 'export', 'harness-uno', file, '--encrypt'], online, {
      input: `${PASSPHRASE}\n${PASSPHRASE}\n`,
    });
    expect(exported.code, exported.stderr).toBe(0);

    const imported = await machine.run('profile import (encrypted)', ['profile', 'import', file], {
      input: `${PASSPHRASE}\n`,
    });
    expect(imported.code, imported.stderr).toBe(0);
    const shown = await machine.run('profile show', ['profile', 'show', 'harness-uno', '--json']);
    expect((JSON.parse(shown.stdout) as ProfileView).secrets).toEqual({ wifiPassword: true, mqttPassword: true });
    const { id } = JSON.parse(shown.stdout) as ProfileView;
    const kept = secretToolFolderSecrets(machine.env.MAKERDECK_DATA_DIR!, machine.env);
    expect(kept).toMatchObject({ [`${id}/wifi-password`]: SECRETS.wifi, [`${id}/mqtt-password`]: SECRETS.mqtt });
    for (const step of [imported, shown]) expect(step.offLoopback.map(describeAttempt), step.name).toEqual([]);
  }, 60_000);

  it('compiles with a hand-made arduino-cli configuration and releases to the emulated Uno', async () => {
    const handMade = {
      MAKERDECK_ARDUINO_CLI_CONFIG: arduinoConfig,
      PATH: `${path.join(arduinoHome, 'bin')}:${LAPTOP_PATH}`,
    };
    const compiled = await machine.run('compile (hand-made config)', ['compile', '--board', FQBN, '--json'], {
      env: handMade,
      timeoutMs: 300_000,
    });
    expect(compiled.code, compiled.stderr).toBe(0);
    const summary = JSON.parse(compiled.stdout) as CompileSummary;
    expect(summary).toMatchObject({ success: true, cached: false });
    const released = await machine.run(
      'release to the Uno (compiled image)',
      ['flash', '--profile', 'harness-uno', '--port', uno.pty, '--board', 'uno', summary.image!.path!, '--json'],
      { env: uno.env, timeoutMs: 120_000 },
    );
    expect(released.code, released.stderr).toBe(0);
    const flash = JSON.parse(released.stdout) as FlashSummary;
    expect(flash).toMatchObject({ verified: true, boot: { reported: true, deviceId: 'harness-uno-1' } });
    for (const step of [compiled, released]) expect(step.offLoopback.map(describeAttempt), step.name).toEqual([]);
  }, 400_000);

  it("starts the stack (core) from the rig's images, loaded into its empty image store", async () => {
    const loaded = performance.now();
    await ensureStackImages({ dockerHost: machine.dockerHost, log: () => {} });
    console.log(`docker load of the rig's images: ${((performance.now() - loaded) / 1000).toFixed(1)} s`);
    const up = await machine.run('stack up (core, rig images)', ['stack', 'up', '--profile', 'core', '--json'], {
      timeoutMs: 300_000,
    });
    expect(up.code, up.stderr).toBe(0);
    console.log(`stack up attempts off loopback: ${up.offLoopback.map(describeAttempt).join(', ') || 'none'}`);
    const down = await machine.run('stack down', ['stack', 'down'], { timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
  }, 600_000);
});
