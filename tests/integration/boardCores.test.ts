// Board cores with the real arduino-cli 1.0.4: a board index and archives built from Debian's AVR core
// and toolchain (scripts/rig/boardIndex.js), served on 127.0.0.1 or carried in a folder, installed
// through Makerdeck (the core service and the CLI), then the firmware compiled against the installed
// core. Every test gets its own arduino-cli data and downloads folders, so the rig's layout is untouched.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardCoreView, BoardsInstallSummary, BoardsProgress, CompileSummary } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { ensureBoardPackage, writeOfflineFolder, type BoardPackage } from '../../scripts/rig/boardIndex.js';
import { defaultRigCache } from '../../scripts/rig/common.js';
import { startBoardIndexServer, type BoardIndexServer } from '../support/boardIndexServer';
import { runCli } from '../support/cli';
import { freshArduinoConfig } from '../support/freshArduinoConfig';
import { requiredEnv } from '../support/env';
import { processesMentioning } from '../support/processes';
import { callHost, until } from '../support/wait';

const CORE = 'makerdeckavr:avr';
const FQBN = 'makerdeckavr:avr:uno';
let scratch: string;
let pack: BoardPackage;
let server: BoardIndexServer;
let arduinoCli: string;
let profileEnv: NodeJS.ProcessEnv;

/** A fresh arduino-cli configuration with empty data and downloads folders; env for Makerdeck to use it. */
function freshArduino(name: string): { env: NodeJS.ProcessEnv; configFile: string; home: string } {
  const home = path.join(scratch, name);
  const configFile = freshArduinoConfig(home);
  const env = { ...profileEnv, MAKERDECK_ARDUINO_CLI: arduinoCli, MAKERDECK_ARDUINO_CLI_CONFIG: configFile };
  return { env, configFile, home };
}

function hostFor(env: NodeJS.ProcessEnv): { host: Host; progress: BoardsProgress[] } {
  const host = createHost({ kind: 'cli', env: { ...process.env, ...env }, quiet: true });
  const progress: BoardsProgress[] = [];
  host.bus.on('boards.progress', (p) => progress.push(p));
  return { host, progress };
}

beforeAll(async () => {
  arduinoCli = requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-boards-'));
  profileEnv = {
    MAKERDECK_DATA_DIR: path.join(scratch, 'makerdeck-data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
  };
  pack = await ensureBoardPackage({ cacheDir: defaultRigCache(), log: () => {} });
  server = await startBoardIndexServer(pack);
  const created = await runCli(
    [
      'profile',
      'set',
      'Boards Bench',
      '--board',
      FQBN,
      '--ssid',
      'lab',
      '--mqtt-host',
      'localhost',
      '--device-id',
      'boards-bench',
    ],
    profileEnv,
  );
  expect(created.code, created.stderr).toBe(0);
  const sizes = [pack.core, pack.toolchain, pack.ctags].map(
    (a) => `${a.name} ${(a.size / 1024 / 1024).toFixed(2)} MiB`,
  );
  console.log(`board package ${pack.dir}: ${sizes.join(', ')}`);
}, 300_000);

afterAll(async () => {
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('board cores (real arduino-cli 1.0.4, Debian AVR core served on loopback)', () => {
  it('a compile before the core is installed says core-missing, naming the core and the command', async () => {
    const { env } = freshArduino('before');
    const { host } = hostFor(env);
    const summary = await callHost<CompileSummary>(host, 'firmware.compile', { board: FQBN });
    expect(summary).toMatchObject({
      success: false,
      errorCode: 'core-missing',
      missingCore: { core: CORE, command: `makerdeck boards install ${CORE}` },
    });
    expect(summary.error).toContain(`makerdeck boards install ${CORE}`);
    const cli = await runCli(['compile', '--profile', 'boards-bench', '--json'], env, { timeoutMs: 60_000 });
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout)).toMatchObject({ errorCode: 'core-missing', missingCore: { core: CORE } });
  });

  it('installs over HTTP with download progress, then compiles the firmware against the installed core', async () => {
    const { env } = freshArduino('online');
    const { host, progress } = hostFor(env);
    const added = await callHost<{ updated: string[] }>(host, 'boards.addIndex', { url: server.url('slow') });
    expect(added.updated).toContain('package_makerdeckavr_index.json');
    const started = Date.now();
    const summary = await callHost<BoardsInstallSummary>(host, 'boards.install', {
      operationId: 'online-1',
      core: CORE,
    });
    const ms = Date.now() - started;
    expect(summary.installed).toEqual([`${CORE}@1.8.7`]);
    // The toolchain trickles out at 4 MiB/s: arduino-cli's bar is redrawn every 200 ms while it comes.
    const toolchain = progress.filter(
      (p) => p.phase === 'download' && p.item === 'makerdeckavr:avr-gcc@5.4.0' && p.bytesTotal,
    );
    expect(toolchain.some((p) => p.bytesDone! > 0 && p.bytesDone! < p.bytesTotal!)).toBe(true);
    expect(toolchain.every((p) => p.operationId === 'online-1')).toBe(true);
    expect(Math.abs(toolchain.at(-1)!.bytesTotal! - pack.toolchain.size)).toBeLessThan(pack.toolchain.size / 1000);
    expect(progress.filter((p) => p.phase === 'install' && p.message === 'installed').map((p) => p.item)).toEqual([
      'makerdeckavr:avr-gcc@5.4.0',
      'makerdeckavr:ctags@5.8.0-arduino11',
      `${CORE}@1.8.7`,
    ]);
    expect(progress.at(-1)?.phase).toBe('done');
    const total = pack.core.size + pack.toolchain.size + pack.ctags.size;
    expect(Math.abs(summary.downloadedBytes - total)).toBeLessThan(total / 500);
    console.log(
      `install from loopback (4 MiB/s trickle): ${(ms / 1000).toFixed(1)} s, ${progress.length} progress events`,
    );

    const cores = await callHost<BoardCoreView[]>(host, 'boards.list', {});
    expect(cores).toMatchObject([{ id: CORE, installed: '1.8.7', latest: '1.8.7' }]);
    expect(cores[0]!.boards).toContain('Arduino Nano');
    const compiled = await callHost<CompileSummary>(host, 'firmware.compile', { board: FQBN });
    expect(compiled, compiled.error).toMatchObject({ success: true, fqbn: FQBN });
    expect(compiled.sizes.find((s) => s.name === 'text')?.size).toBeGreaterThan(1000);
  }, 120_000);

  it('the CLI adds the index, installs at full loopback speed, lists and removes', async () => {
    const { env } = freshArduino('cli');
    const index = await runCli(['boards', 'index', '--add', server.url('good'), '--json'], env, { timeoutMs: 60_000 });
    expect(index.code, index.stderr).toBe(0);
    const install = await runCli(['boards', 'install', `${CORE}@1.8.7`, '--json'], env, { timeoutMs: 120_000 });
    expect(install.code, install.stderr + install.stdout).toBe(0);
    const installed = JSON.parse(install.stdout) as BoardsInstallSummary;
    expect(installed.installed).toEqual([`${CORE}@1.8.7`]);
    console.log(`install from loopback (full speed, CLI): ${(installed.ms / 1000).toFixed(1)} s`);
    const listed = JSON.parse((await runCli(['boards', 'list', '--json'], env)).stdout) as BoardCoreView[];
    expect(listed.map((c) => [c.id, c.installed])).toEqual([[CORE, '1.8.7']]);
    const removed = await runCli(['boards', 'remove', CORE, '--json'], env);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse((await runCli(['boards', 'list', '--json'], env)).stdout)).toEqual([]);
    const again = await runCli(['boards', 'remove', CORE], env);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toContain('is not installed');
  }, 180_000);

  it('installs offline from a folder and from a .tar.gz of it, with no server', async () => {
    const folder = path.join(scratch, 'offline-folder');
    writeOfflineFolder(pack, folder); // its index points at https://offline.invalid/, which never resolves
    const { env } = freshArduino('offline');
    const { host, progress } = hostFor(env);
    const summary = await callHost<BoardsInstallSummary>(host, 'boards.installFrom', { path: folder });
    expect(summary).toMatchObject({ installed: [`${CORE}@1.8.7`], downloadedBytes: 0 });
    expect(progress.filter((p) => p.message === 'already downloaded')).toHaveLength(3);
    console.log(`install from a folder: ${(summary.ms / 1000).toFixed(1)} s`);

    const archive = path.join(scratch, 'offline.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', scratch, 'offline-folder']);
    rmSync(folder, { recursive: true }); // the folder (a USB stick) is gone; the kept index copy serves
    const other = freshArduino('offline-archive');
    const cli = await runCli(['boards', 'install', '--from', archive, '--json'], other.env, { timeoutMs: 120_000 });
    expect(cli.code, cli.stderr + cli.stdout).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ installed: [`${CORE}@1.8.7`] });
    const listed = JSON.parse((await runCli(['boards', 'list', '--json'], other.env)).stdout) as BoardCoreView[];
    expect(listed.map((c) => [c.id, c.installed])).toEqual([[CORE, '1.8.7']]);
  }, 180_000);

  it('a damaged archive in a folder is refused before arduino-cli sees it, in one line', async () => {
    const folder = path.join(scratch, 'damaged-folder');
    writeOfflineFolder(pack, folder);
    writeFileSync(path.join(folder, pack.ctags.name), Buffer.alloc(pack.ctags.size, 1));
    const { env, home } = freshArduino('damaged');
    const result = await runCli(['boards', 'install', '--from', folder], env, { timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    // stderr also holds the progress lines; the error is one line of its own.
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('makerdeck: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`${pack.ctags.name} does not match its SHA-256 checksum`);
    // Checked before anything was copied: arduino-cli's downloads folder is as it was.
    expect(existsSync(path.join(home, 'downloads'))).toBe(false);
  });

  it('a wrong checksum in the index: arduino-cli refuses the archive, one line says so, nothing is installed', async () => {
    const { env } = freshArduino('bad');
    const { host } = hostFor(env);
    await callHost(host, 'boards.addIndex', { url: server.url('bad') });
    const reply = await host.call('boards.install', { core: CORE });
    expect(reply.ok).toBe(false);
    const error = !reply.ok ? reply.error : undefined;
    expect(error?.code).toBe('UNAVAILABLE');
    expect(error?.message).toContain('does not match its size or checksum in the board index');
    expect(error?.message).toContain('archive hash differs');
    expect(error?.message).not.toContain('\n');
    expect(await callHost<BoardCoreView[]>(host, 'boards.list', {})).toEqual([]);
  }, 120_000);

  it('cancels a long install: arduino-cli stops, nothing is installed, and the next install finishes', async () => {
    const { env, home } = freshArduino('cancel');
    const { host, progress } = hostFor(env);
    await callHost(host, 'boards.addIndex', { url: server.url('slow') });
    const install = host.call('boards.install', { operationId: 'cancel-1', core: CORE });
    await until('download progress', () => progress.some((p) => p.phase === 'download' && (p.bytesDone ?? 0) > 0));
    expect(await callHost(host, 'operations.cancel', { operationId: 'cancel-1' })).toEqual({ cancelled: true });
    const reply = await install;
    expect(reply).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    await until('arduino-cli to exit', () => processesMentioning(path.join(home, 'arduino-cli.yaml')).length === 0);
    expect(await callHost<BoardCoreView[]>(host, 'boards.list', {})).toEqual([]);
    // A partial archive is left in the downloads folder; arduino-cli finds it damaged and fetches it again.
    await callHost(host, 'boards.addIndex', { url: server.url('good') });
    const done = await callHost<BoardsInstallSummary>(host, 'boards.install', { core: CORE });
    expect(done.installed).toEqual([`${CORE}@1.8.7`]);
  }, 120_000);
});
