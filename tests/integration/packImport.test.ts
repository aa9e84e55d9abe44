// Lab pack import with the real arduino-cli 1.0.4 and the real Secret Service: a pack made with
// `pack.create` on a "connected" machine (the AVR core installed from a board index served on
// loopback, a profile with secrets) is imported into fresh data folders through the CLI, as a lab
// would. After it, compiling needs no MAKERDECK_ARDUINO_CLI_CONFIG or MAKERDECK_ARDUINO_CLI: the data
// folder's arduino-cli and configuration are used. A tampered pack changes nothing, a SIGKILLed import
// resumes, a data folder on a too-small disk (a tmpfs) is refused before anything is written, and the
// rig's stack images come back out of a pack through docker load.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { readSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CompileSummary,
  DoctorReport,
  PackCreateSummary,
  PackImportSummary,
  PackManifest,
  PackProgress,
  ProfileView,
} from '../../electron/contract';
import { createHost } from '../../electron/core/host';
import { ensureBoardPackage } from '../../scripts/rig/boardIndex.js';
import { defaultRigCache } from '../../scripts/rig/common.js';
import { startBoardIndexServer, type BoardIndexServer } from '../support/boardIndexServer';
import { runCli } from '../support/cli';
import { requiredEnv, repoRoot } from '../support/env';
import { snapshot } from '../support/files';
import { folderSecrets, forgetFolders } from '../support/keychain';
import { freshArduinoConfig } from '../support/freshArduinoConfig';
import { callHost, until } from '../support/wait';

const CORE = 'makerdeckavr:avr';
const FQBN = 'makerdeckavr:avr:uno';
const PASSPHRASE = 'correct horse battery pack';
const SECRETS = { wifiPassword: 'wifi-pack-secret-1', mqttPassword: 'mqtt-pack-secret-2' };

let scratch: string;
let server: BoardIndexServer;
let packFile: string;
let manifest: PackManifest;
const dataDirs: string[] = [];

/** A machine with nothing but Makerdeck: its own data and cache folders, no arduino-cli configured. */
function bareMachine(name: string): NodeJS.ProcessEnv {
  const dataDir = path.join(scratch, name, 'data');
  dataDirs.push(dataDir);
  return {
    MAKERDECK_DATA_DIR: dataDir,
    MAKERDECK_CACHE_DIR: path.join(scratch, name, 'cache'),
    // Empty is unset for Makerdeck; process.env's (the rig's) must not leak in.
    MAKERDECK_ARDUINO_CLI: '',
    MAKERDECK_ARDUINO_CLI_CONFIG: '',
  };
}

const importCli = (env: NodeJS.ProcessEnv, file = packFile, json = true) =>
  runCli(['pack', 'import', file, ...(json ? ['--json'] : [])], env, {
    input: `${PASSPHRASE}\n`,
    timeoutMs: 240_000,
  });

beforeAll(async () => {
  const arduinoCli = requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-pack-import-'));
  const boardPackage = await ensureBoardPackage({ cacheDir: defaultRigCache(), log: () => {} });
  server = await startBoardIndexServer(boardPackage);
  // The connected machine: the core installed from the loopback index, a profile with its secrets.
  const sourceData = path.join(scratch, 'source', 'data');
  dataDirs.push(sourceData);
  const sourceEnv = {
    ...process.env,
    MAKERDECK_DATA_DIR: sourceData,
    MAKERDECK_CACHE_DIR: path.join(scratch, 'source', 'cache'),
    MAKERDECK_ARDUINO_CLI: arduinoCli,
    MAKERDECK_ARDUINO_CLI_CONFIG: freshArduinoConfig(path.join(scratch, 'source', 'arduino')),
  };
  const source = createHost({ kind: 'cli', env: sourceEnv, quiet: true });
  await callHost(source, 'boards.addIndex', { url: server.url('good') });
  await callHost(source, 'boards.install', { core: CORE });
  await callHost(source, 'profiles.save', {
    fields: { name: 'Pack Bench', board: FQBN, wifiSsid: 'lab', mqttHost: 'localhost', deviceId: 'pack-bench' },
    secrets: SECRETS,
  });
  packFile = path.join(scratch, 'lab.mdpack');
  const created = await callHost<PackCreateSummary>(source, 'pack.create', {
    file: packFile,
    name: 'Import test lab',
    cores: [CORE],
    profiles: ['pack-bench'],
    passphrase: PASSPHRASE,
  });
  manifest = await callHost<PackManifest>(source, 'pack.inspect', { file: packFile });
  const parts = created.parts.map((p) => `${p.id} ${(p.bytes / 1e6).toFixed(1)} MB`).join(', ');
  console.log(`pack ${(created.bytes / 1e6).toFixed(1)} MB in ${(created.ms / 1000).toFixed(1)} s: ${parts}`);
}, 300_000);

afterAll(async () => {
  await server?.close();
  await forgetFolders(dataDirs).catch(() => undefined);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('pack import (real arduino-cli, real Secret Service, pack made by pack.create)', () => {
  it('sets a bare machine up: compile works with no arduino-cli configured, the profile keeps its secrets', async () => {
    const env = bareMachine('fresh');
    const result = await importCli(env, packFile, false);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    // The space is said before anything is extracted.
    const lines = result.stderr.split('\n');
    const space = lines.findIndex((l) => l.startsWith('Space needed: '));
    expect(space).toBeGreaterThan(-1);
    expect(space).toBeLessThan(lines.findIndex((l) => l.startsWith('extract')));
    expect(result.stdout).toContain('Imported pack');
    const used = Number(execFileSync('du', ['-sb', env.MAKERDECK_DATA_DIR!], { encoding: 'utf8' }).split('\t')[0]);
    console.log(
      `import into a fresh data folder (CLI): ${(result.ms / 1000).toFixed(1)} s; ${lines[space]}; ` +
        `the data folder holds ${(used / 1024 / 1024).toFixed(1)} MiB after it`,
    );

    const host = createHost({ kind: 'cli', env: { ...process.env, ...env }, quiet: true });
    const doctor = await callHost<DoctorReport>(host, 'doctor.run', { only: ['arduino-cli'] });
    const check = doctor.checks.find((c) => c.id === 'arduino-cli');
    expect(check?.summary).toContain("the data folder's, from a lab pack");
    const configFile = path.join(env.MAKERDECK_DATA_DIR!, 'arduino-cli', 'arduino-cli.yaml');
    expect(check?.items).toEqual([{ label: 'configuration', detail: configFile, status: 'ok' }]);

    const compile = await runCli(['compile', '--profile', 'pack-bench', '--json'], env, { timeoutMs: 180_000 });
    expect(compile.code, compile.stderr + compile.stdout).toBe(0);
    const compiled = JSON.parse(compile.stdout) as CompileSummary;
    expect(compiled).toMatchObject({ success: true, fqbn: FQBN, cached: false });
    console.log(`first compile after import: ${(compiled.ms / 1000).toFixed(1)} s`);

    const shown = await runCli(['profile', 'show', 'pack-bench', '--json'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as ProfileView).secrets).toEqual({ wifiPassword: true, mqttPassword: true });
    const stored = await folderSecrets(env.MAKERDECK_DATA_DIR!);
    expect(Object.values(stored).sort()).toEqual(Object.values(SECRETS).sort());
    // No secret in the clear anywhere in the data folder (the pack's folder keeps import.json only).
    for (const [file, bytes] of snapshot(env.MAKERDECK_DATA_DIR!, { includeLogs: true }))
      for (const secret of [...Object.values(SECRETS), PASSPHRASE])
        expect(bytes.includes(secret), `${secret} in ${file}`).toBe(false);

    const again = await importCli(env);
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout) as PackImportSummary;
    expect(summary.steps.map((s) => s.result)).toEqual(summary.steps.map(() => 'already'));
  }, 300_000);

  it('a tampered pack is refused in one line: the data folder and the keychain are as they were', async () => {
    const env = bareMachine('tampered');
    // A machine in use: a profile whose secrets are in the keychain.
    const host = createHost({ kind: 'cli', env: { ...process.env, ...env }, quiet: true });
    await callHost(host, 'profiles.save', {
      fields: { name: 'Other', board: FQBN, wifiSsid: 'lab', mqttHost: 'localhost', deviceId: 'other' },
      secrets: { wifiPassword: 'other-wifi-secret' },
    });
    const tampered = path.join(scratch, 'tampered.mdpack');
    copyFileSync(packFile, tampered);
    flipByte(tampered, Math.floor(statSync(tampered).size / 2));
    const before = snapshot(env.MAKERDECK_DATA_DIR!);
    const secretsBefore = await folderSecrets(env.MAKERDECK_DATA_DIR!);
    expect(Object.values(secretsBefore)).toEqual(['other-wifi-secret']);
    const result = await importCli(env, tampered, false);
    expect(result.code).toBe(2);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('makerdeck: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/does not match its SHA-256|has \d+ bytes|not a readable tar/);
    expect(snapshot(env.MAKERDECK_DATA_DIR!)).toEqual(before);
    expect(await folderSecrets(env.MAKERDECK_DATA_DIR!)).toEqual(secretsBefore);
    expect(existsSync(path.join(env.MAKERDECK_CACHE_DIR!))).toBe(false);
  }, 120_000);

  it('an import killed (SIGKILL) while extracting resumes: the files it kept are not extracted again', async () => {
    const env = bareMachine('killed');
    const state = path.join(env.MAKERDECK_DATA_DIR!, 'packs', manifest.id, 'import.json');
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'makerdeck.js'), 'pack', 'import', packFile], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.stdin.end(`${PASSPHRASE}\n`);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const kept = await until(
      'the first extracted file in import.json',
      () => {
        const files = Object.keys(readState(state)?.files ?? {});
        return files.length > 0 ? files : undefined;
      },
      120_000,
      5,
    );
    child.kill('SIGKILL');
    await exited;
    const left = readState(state)!;
    const members = manifest.parts.flatMap((p) => p.files).length;
    expect(Object.keys(left.steps)).toEqual([]); // killed before any install step
    expect(Object.keys(left.files).length).toBeLessThan(members);
    expect(kept.length).toBeGreaterThan(0);

    const host = createHost({ kind: 'cli', env: { ...process.env, ...env }, quiet: true });
    const progress: PackProgress[] = [];
    host.bus.on('pack.progress', (p) => progress.push(p));
    const summary = await callHost<PackImportSummary>(host, 'pack.import', { file: packFile, passphrase: PASSPHRASE });
    expect(summary.steps.map((s) => s.part)).toEqual(expect.arrayContaining([`core/${CORE}`, 'profiles']));
    const extracted = progress.filter((p) => p.phase === 'extract' && p.bytesTotal).at(-1)!;
    const keptBytes = manifest.parts
      .flatMap((p) => p.files)
      .filter((f) => left.files[f.path])
      .reduce((sum, f) => sum + f.bytes, 0);
    const total = manifest.parts.flatMap((p) => p.files).reduce((sum, f) => sum + f.bytes, 0);
    expect(extracted.bytesTotal).toBeLessThanOrEqual(total - keptBytes);
    console.log(
      `killed with ${Object.keys(left.files).length}/${members} files extracted; resumed in ${(summary.ms / 1000).toFixed(1)} s`,
    );
    const compiled = await callHost<CompileSummary>(host, 'firmware.compile', { board: FQBN });
    expect(compiled, compiled.error).toMatchObject({ success: true });
  }, 300_000);

  it('a data folder on a disk with too little space is refused before anything is written', async () => {
    const small = path.join(scratch, 'small-disk');
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small]);
    try {
      const env = { ...bareMachine('small'), MAKERDECK_DATA_DIR: path.join(small, 'data') };
      const result = await importCli(env, packFile, false);
      expect(result.code).toBe(3);
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('makerdeck: '));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/needs [\d.]+ MiB free in .*small-disk\/data, which has [\d.]+ (KiB|MiB) free/);
      expect(result.stderr).toContain('Space needed: ');
      // Nothing but what any command writes (its log) reached the small disk.
      expect(readdirSync(small).flatMap((d) => readdirSync(path.join(small, d)))).not.toContain('packs');
      expect(existsSync(path.join(small, 'data', 'arduino-cli'))).toBe(false);
    } finally {
      execFileSync('umount', [small]);
    }
  }, 120_000);

  it("loads the rig's core stack images from a pack into Docker (gzip, as docker save wrote them)", async () => {
    const env = bareMachine('images');
    const host = createHost({ kind: 'cli', env: { ...process.env, ...env }, quiet: true });
    const file = path.join(scratch, 'images.mdpack');
    await callHost(host, 'pack.create', { file, stack: 'core', cliTargets: [] });
    const summary = await callHost<PackImportSummary>(host, 'pack.import', { file });
    const step = summary.steps.find((s) => s.part === 'images/core');
    expect(step).toMatchObject({ result: 'done' });
    expect(step?.detail).toContain('rabbitmq:4.1-management');
    expect(step?.detail).toContain('influxdb:1.11');
    console.log(`images/core import: ${(summary.ms / 1000).toFixed(1)} s, ${step?.detail}`);
  }, 600_000);
});

function readState(file: string): { files: Record<string, string>; steps: Record<string, unknown> } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, string>; steps: Record<string, unknown> };
  } catch {
    return undefined;
  }
}

function flipByte(file: string, offset: number): void {
  const fd = openSync(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0xff;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}
