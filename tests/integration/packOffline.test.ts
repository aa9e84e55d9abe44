// Issue 15: a lab pack proven with no network. On the connected side a pack is made from what is
// installed — the board core from a board index served on loopback, a cached build, the rig's stack
// images (core) and an encrypted profile — with `makerdeck pack create`. Then, on a laptop with no
// network (tests/support/offlineMachine.ts: loopback only, its own empty dockerd and Secret Service, a
// fresh data folder, no arduino-cli anywhere): the first start (doctor, serve and the page in Chromium),
// `pack import`, compiles, a release to the emulated Uno, `stack up` and the profile used. Every
// step's connect attempts are traced: nothing may try a network this laptop does not have.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CompileSummary,
  DoctorReport,
  FlashSummary,
  PackCreateSummary,
  PackImportSummary,
  ProfileView,
  StackServiceView,
} from '../../electron/contract';
import { ensureBoardPackage } from '../../scripts/rig/boardIndex.js';
import { defaultRigCache } from '../../scripts/rig/common.js';
import { startBoardIndexServer, type BoardIndexServer } from '../support/boardIndexServer';
import { runCli } from '../support/cli';
import { repoRoot, requiredEnv } from '../support/env';
import { freshArduinoConfig } from '../support/freshArduinoConfig';
import { secretToolFolderSecrets } from '../support/keychain';
import { describeAttempt, type NetworkAttempt } from '../support/networkAttempts';
import { startOfflineMachine, stepTable, type OfflineMachine, type OfflineStep } from '../support/offlineMachine';
import { scratchEnv } from '../support/scratchEnv';
import { startUno, type EmulatedUno } from '../support/uno';

const CORE = 'makerdeckavr:avr';
const FQBN = 'makerdeckavr:avr:uno';
const PASSPHRASE = 'offline lab pack passphrase 4Tz';
const SECRETS = { wifi: 'lab-pack-wifi-Rq55t', mqtt: 'lab-pack-mqtt-Hm03x' };
let scratch: string;
let server: BoardIndexServer | undefined;
let machine: OfflineMachine;
let uno: EmulatedUno;
/** What was measured on the connected side, for the report. */
const online: Array<{ name: string; ms: number }> = [];

/** The one JSON document a `--json` command prints last. */
function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

const off = (step: OfflineStep) => step.offLoopback.map(describeAttempt);

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-pack-offline-'));
  machine = await startOfflineMachine();
  uno = await startUno(path.join(scratch, 'uno'));
}, 120_000);

afterAll(async () => {
  if (machine) {
    console.log(`offline laptop, step by step:\n${stepTable(machine.steps)}`);
    console.log(`connected side: ${online.map((s) => `${s.name} ${(s.ms / 1000).toFixed(2)} s`).join(', ')}`);
    writeReport(machine.steps);
  }
  await uno?.stop();
  await machine?.stop();
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Every step with its time and attempts in test-results/packOffline.json, for the README's figures. */
function writeReport(steps: OfflineStep[]): void {
  const strip = (a: NetworkAttempt[]) => a.map(describeAttempt);
  const report = steps.map((s) => ({
    name: s.name,
    code: s.code,
    seconds: Number((s.ms / 1000).toFixed(2)),
    addressedAttempts: s.attempts.length,
    offLoopback: strip(s.offLoopback),
    // where it reached, each once: the Docker socket, the D-Bus bus, the stack's loopback ports, …
    targets: [...new Set(s.attempts.map((a) => (a.family === 'unix' ? a.address : `${a.address}:${a.port}`)))],
  }));
  writeFileSync(path.join(repoRoot, 'test-results', 'packOffline.json'), JSON.stringify({ online, report }, null, 2));
}

describe('first start on a laptop with no network', () => {
  it('the doctor, with a fresh data folder, touches nothing off loopback', async () => {
    const fresh = machine.freshData('first-start');
    const step = await machine.run('first start: doctor', ['doctor', '--json'], { env: fresh });
    const report = JSON.parse(step.stdout) as DoctorReport;
    expect(report.checks.map((c) => c.id).sort()).toEqual(
      ['arduino-cli', 'disk', 'docker', 'keychain', 'serial-ports'].sort(),
    );
    expect(Object.fromEntries(report.checks.map((c) => [c.id, c.status]))).toMatchObject({
      docker: 'ok',
      keychain: 'ok',
    });
    expect(off(step)).toEqual([]);
  });

  it('`makerdeck serve` starts and its page opens in Chromium, touching nothing off loopback', async () => {
    const fresh = machine.freshData('first-serve');
    const served = await machine.serve('first start: serve + page', { env: fresh });
    const browser = await machine.launchChromium();
    let step: OfflineStep | undefined;
    try {
      const page = await browser.newPage();
      await page.goto(served.url);
      await expect.poll(() => page.getByTestId('app-info').textContent()).toMatch(/Makerdeck .* browser mode/);
      await page.getByRole('link', { name: /Doctor/ }).click();
      await page.getByTestId('doctor-summary').waitFor({ timeout: 15_000 });
      expect(await page.locator('li.check').count()).toBe(5);
    } finally {
      await browser.close();
      step = await served.stop();
    }
    expect(step.code, served.stderr()).toBe(0);
    expect(step.attempts.length).toBeGreaterThan(0); // the page's WebSocket, the doctor's Docker socket
    expect(off(step)).toEqual([]);
  });
});

describe('a lab pack made on a connected machine, used on a laptop with no network', () => {
  let packFile: string;
  let packedBuild: string;
  let laptop: NodeJS.ProcessEnv;

  it('is created from the installed core, a cached build, the stack images (core) and a profile', async () => {
    const rigCli = requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
    requiredEnv('DOCKER_HOST', 'the test Docker daemon with the rig’s stack images');
    server = await startBoardIndexServer(await ensureBoardPackage({ cacheDir: defaultRigCache(), log: () => {} }));
    const env = {
      ...scratchEnv(path.join(scratch, 'connected')),
      MAKERDECK_ARDUINO_CLI: rigCli,
      MAKERDECK_ARDUINO_CLI_CONFIG: freshArduinoConfig(path.join(scratch, 'connected', 'arduino')),
    };
    const timed = async (name: string, args: string[], input?: string) => {
      const result = await runCli(args, env, { timeoutMs: 600_000, input });
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      online.push({ name, ms: result.ms });
      return result;
    };
    await timed('boards index --add (loopback)', ['boards', 'index', '--add', server.url('good')]);
    await timed('boards install', ['boards', 'install', CORE]);
    await timed(
      'profile set',
      ['profile', 'set', 'Lab Uno', '--board', 'arduino:avr:uno', '--ssid', 'lab', '--mqtt-host', 'localhost'].concat([
        '--device-id',
        'lab-uno-1',
        '--interval',
        '1',
        '--wifi-password',
        '--mqtt-password',
      ]),
      `${SECRETS.wifi}\n${SECRETS.mqtt}\n`,
    );
    const compiled = lastJson<CompileSummary>(
      (await timed('compile (cold)', ['compile', '--board', FQBN, '--json'])).stdout,
    );
    expect(compiled).toMatchObject({ success: true, cached: false });
    packedBuild = compiled.buildHash!;

    packFile = path.join(scratch, 'lab.mdpack');
    const created = await timed(
      'pack create',
      ['pack', 'create', packFile, '--core', CORE, '--builds', 'all', '--stack', 'core', '--profile', 'lab-uno'].concat(
        ['--name', 'Offline lab', '--json'],
      ),
      `${PASSPHRASE}\n${PASSPHRASE}\n`,
    );
    const summary = lastJson<PackCreateSummary>(created.stdout);
    expect(summary.parts.map((p) => p.id).sort()).toEqual(
      [`arduino-cli/linux-x64`, `build/${packedBuild}`, `core/${CORE}`, 'images/core', 'profiles'].sort(),
    );
    expect(statSync(packFile).size).toBe(summary.bytes);
    const sizes = summary.parts.map((p) => `${p.id} ${(p.bytes / 1024 / 1024).toFixed(1)} MiB`);
    console.log(`pack: ${(summary.bytes / 1024 / 1024).toFixed(1)} MiB (${sizes.join(', ')})`);
    expect(readFileSync(packFile).includes(Buffer.from(SECRETS.wifi))).toBe(false); // encrypted, never clear
    await server.close();
    server = undefined; // from here on nothing serves the board index
  }, 900_000);

  it('imports on the laptop: checked, extracted, installed — nothing off loopback', async () => {
    expect(packFile, 'the pack from the step before').toBeDefined();
    laptop = machine.freshData('lab');
    const step = await machine.run('pack import', ['pack', 'import', packFile, '--json'], {
      env: laptop,
      input: `${PASSPHRASE}\n`,
      timeoutMs: 600_000,
    });
    expect(step.code, step.stderr).toBe(0);
    const summary = lastJson<PackImportSummary>(step.stdout);
    expect(summary.steps.every((s) => s.result === 'done')).toBe(true);
    expect(summary.arduinoCliConfig).toBe(path.join(laptop.MAKERDECK_DATA_DIR!, 'arduino-cli', 'arduino-cli.yaml'));
    // the tracer saw this command's connects: the images went to Docker over its socket
    expect(step.attempts.some((a) => a.address === machine.dockerSocket)).toBe(true);
    expect(off(step)).toEqual([]);
  }, 600_000);

  it('compiles for the packed board: the packed build, then a changed sketch against the packed core', async () => {
    const cached = await machine.run('compile (packed build)', ['compile', '--board', FQBN, '--json'], {
      env: laptop,
    });
    expect(cached.code, cached.stderr).toBe(0);
    expect(lastJson<CompileSummary>(cached.stdout)).toMatchObject({
      success: true,
      cached: true,
      buildHash: packedBuild,
    });
    // A class edits the sketch: a real compile with the pack's arduino-cli, core and toolchain.
    const sketch = path.join(scratch, 'edited-firmware');
    cpSync(path.join(repoRoot, 'firmware'), sketch, { recursive: true });
    writeFileSync(path.join(sketch, 'firmware.ino'), `${readFileSync(path.join(sketch, 'firmware.ino'))}\n// edited\n`);
    const fresh = await machine.run('compile (edited sketch, cold)', ['compile', '--board', FQBN, '--json'], {
      env: { ...laptop, MAKERDECK_FIRMWARE_DIR: sketch },
      timeoutMs: 300_000,
    });
    expect(fresh.code, fresh.stderr).toBe(0);
    const summary = lastJson<CompileSummary>(fresh.stdout);
    expect(summary).toMatchObject({ success: true, cached: false });
    expect(summary.buildHash).not.toBe(packedBuild);
    for (const step of [cached, fresh]) expect(off(step), step.name).toEqual([]);
  }, 400_000);

  it('decrypts the packed profile into its keychain and releases it to the emulated Uno', async () => {
    const shown = await machine.run('profile show', ['profile', 'show', 'lab-uno', '--json'], { env: laptop });
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as ProfileView).secrets).toEqual({ wifiPassword: true, mqttPassword: true });
    const profile = JSON.parse(shown.stdout) as ProfileView;
    const kept = secretToolFolderSecrets(laptop.MAKERDECK_DATA_DIR!, machine.env);
    // Only the profile's secrets: the images step needs no stack credential (those come with stack up).
    expect(kept).toEqual({
      [`${profile.id}/wifi-password`]: SECRETS.wifi,
      [`${profile.id}/mqtt-password`]: SECRETS.mqtt,
    });
    // The profile is for an Uno (arduino:avr:uno); the image is the packed build for the packed core's Uno.
    const image = lastJson<CompileSummary>(
      (await machine.run('compile (packed build, path)', ['compile', '--board', FQBN, '--json'], { env: laptop }))
        .stdout,
    ).image!.path!;
    expect(existsSync(image)).toBe(true);
    const released = await machine.run(
      'release to the Uno (packed build)',
      ['flash', '--profile', 'lab-uno', '--port', uno.pty, '--board', 'uno', image, '--json'],
      { env: { ...laptop, ...uno.env }, timeoutMs: 120_000 },
    );
    expect(released.code, released.stderr).toBe(0);
    expect(lastJson<FlashSummary>(released.stdout)).toMatchObject({
      verified: true,
      release: { deviceId: 'lab-uno-1' },
      boot: { reported: true, deviceId: 'lab-uno-1', buildHash: packedBuild },
    });
    for (const step of [shown, released]) expect(off(step), step.name).toEqual([]);
  }, 300_000);

  it('starts the stack (core) from the packed images', async () => {
    const up = await machine.run('stack up (core)', ['stack', 'up', '--profile', 'core', '--json'], {
      env: laptop,
      timeoutMs: 400_000,
    });
    expect(up.code, up.stderr).toBe(0);
    const status = await machine.run('stack status', ['stack', 'status', '--json'], { env: laptop });
    const running = (JSON.parse(status.stdout) as StackServiceView[]).filter((s) => s.state === 'running');
    expect(running.map((s) => s.name).sort()).toEqual(['influxdb', 'rabbitmq', 'telegraf']);
    console.log(`stack up, attempts off loopback: ${off(up).join(', ') || 'none'}`);
    expect(off(status)).toEqual([]);
    const down = await machine.run('stack down', ['stack', 'down'], { env: laptop, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
  }, 600_000);
});
