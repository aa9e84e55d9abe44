// Creating lab packs from a real data folder: arduino-cli 1.0.4 with `makerdeckavr:avr` installed
// from the board index served on loopback, a firmware build in the cache and a profile whose secrets
// sit in the real Secret Service. The pack is read back member by member: sizes and checksums match
// the files they came from, no secret is in the clear, and its boards/ folder installs offline.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BoardsInstallSummary,
  CompileSummary,
  PackManifest,
  PackPlan,
  PackCreateSummary,
  PackProgress,
} from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { readPack } from '../../electron/core/pack/packArchive';
import { ensureBoardPackage, type BoardPackage } from '../../scripts/rig/boardIndex.js';
import { defaultRigCache } from '../../scripts/rig/common.js';
import { startBoardIndexServer, type BoardIndexServer } from '../support/boardIndexServer';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { freshArduinoConfig } from '../support/freshArduinoConfig';
import { callHost } from '../support/wait';

const CORE = 'makerdeckavr:avr';
const FQBN = 'makerdeckavr:avr:uno';
const WIFI = 'pack-wifi-Secret-4711';
const MQTT = 'pack-mqtt-Secret-0815';
const PASSPHRASE = 'pack passphrase Secret 42';
let scratch: string;
let board: BoardPackage;
let server: BoardIndexServer;
let arduinoCli: string;
let env: NodeJS.ProcessEnv;
let host: Host;
let arduinoHome: string;
let buildHash: string;

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function hostFor(extra: NodeJS.ProcessEnv): Host {
  return createHost({ kind: 'cli', env: { ...process.env, ...extra }, quiet: true });
}

/** Every member's bytes, read through the checking reader. */
async function members(file: string): Promise<{ manifest: PackManifest; files: Map<string, Buffer> }> {
  const files = new Map<string, Buffer>();
  const manifest = await readPack(file, {
    onMember: async (member) => {
      const chunks: Buffer[] = [];
      for await (const chunk of member.stream) chunks.push(chunk as Buffer);
      files.set(member.path, Buffer.concat(chunks));
    },
  });
  return { manifest, files };
}

beforeAll(async () => {
  arduinoCli = requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-pack-'));
  arduinoHome = path.join(scratch, 'arduino');
  env = {
    MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
    MAKERDECK_ARDUINO_CLI: arduinoCli,
    MAKERDECK_ARDUINO_CLI_CONFIG: freshArduinoConfig(arduinoHome),
  };
  // A library as a person copies one into the sketchbook: arduino-cli lists it as installed.
  const library = path.join(arduinoHome, 'sketchbook', 'libraries', 'PackLib');
  mkdirSync(path.join(library, 'src'), { recursive: true });
  writeFileSync(path.join(library, 'library.properties'), 'name=PackLib\nversion=0.3.1\narchitectures=*\n');
  writeFileSync(path.join(library, 'src', 'PackLib.h'), '#pragma once\n');
  board = await ensureBoardPackage({ cacheDir: defaultRigCache(), log: () => {} });
  server = await startBoardIndexServer(board);
  host = hostFor(env);
  await callHost(host, 'boards.addIndex', { url: server.url('good') });
  const installed = await callHost<BoardsInstallSummary>(host, 'boards.install', { core: CORE });
  expect(installed.installed).toEqual([`${CORE}@1.8.7`]);
  const compiled = await callHost<CompileSummary>(host, 'firmware.compile', { board: FQBN });
  expect(compiled, compiled.error).toMatchObject({ success: true, fqbn: FQBN });
  buildHash = compiled.buildHash!;
  const created = await runCli(
    [
      ...['profile', 'set', 'Pack Bench', '--board', FQBN, '--ssid', 'lab', '--mqtt-host', 'localhost'],
      ...['--device-id', 'pack-bench', '--wifi-password', '--mqtt-password'],
    ],
    env,
    { input: `${WIFI}\n${MQTT}\n` },
  );
  expect(created.code, created.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  if (env) await runCli(['profile', 'rm', 'pack-bench'], env);
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('makerdeck pack create (real arduino-cli, loopback board index, real Secret Service)', () => {
  it('plans each part with its version and size, and names what cannot be carried', async () => {
    const plan = await callHost<PackPlan>(host, 'pack.plan', {
      cores: [CORE, 'nosuch:core'],
      builds: 'all',
      profiles: ['pack-bench'],
      cliTargets: ['linux-x64', 'win32-x64'],
    });
    const ids = plan.parts.map((p) => p.id);
    expect(ids).toEqual(['arduino-cli/linux-x64', `core/${CORE}`, `build/${buildHash}`]);
    const core = plan.parts.find((p) => p.id === `core/${CORE}`)!;
    expect(core).toMatchObject({ version: '1.8.7', files: 4 });
    expect(core.bytes).toBeGreaterThan(board.core.size + board.toolchain.size + board.ctags.size);
    expect(plan.parts[0]).toMatchObject({ version: '1.0.4', installedBytes: readFileSync(arduinoCli).length });
    expect(plan.problems).toEqual([
      expect.stringMatching(/no arduino-cli for win32-x64 .*npm run dist/),
      'nosuch:core is not installed: install it first (makerdeck boards install nosuch:core)',
      expect.stringMatching(/Profiles are carried encrypted: give a passphrase/),
    ]);
  });

  it('writes the pack: manifest sizes and checksums match the files, no secret in the clear, boards/ installs offline', async () => {
    // An archive arduino-cli no longer keeps is fetched again (core download) from the index's server.
    rmSync(path.join(arduinoHome, 'downloads', 'packages', board.toolchain.name));
    const file = path.join(scratch, 'lab.mdpack');
    const result = await runCli(
      [
        ...['pack', 'create', file, '--core', CORE, '--builds', 'all', '--profile', 'pack-bench'],
        ...['--library', 'PackLib', '--name', 'Room 4'],
      ],
      env,
      { input: `${PASSPHRASE}\n${PASSPHRASE}\n`, timeoutMs: 300_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const planAt = result.stdout.indexOf(`core/${CORE}`);
    expect(planAt).toBeGreaterThanOrEqual(0);
    expect(planAt).toBeLessThan(result.stdout.indexOf('Wrote '));
    expect(readdirSync(scratch).filter((n) => n.startsWith('lab.mdpack'))).toEqual(['lab.mdpack']);

    const raw = readFileSync(file);
    const { manifest, files } = await members(file);
    expect(manifest).toMatchObject({ format: 'makerdeck-pack', name: 'Room 4' });
    for (const part of manifest.parts) {
      expect(part.bytes).toBe(part.files.reduce((s, f) => s + f.bytes, 0));
      for (const entry of part.files) {
        const data = files.get(entry.path)!;
        expect({ bytes: data.length, sha256: sha(data) }, entry.path).toEqual({
          bytes: entry.bytes,
          sha256: entry.sha256,
        });
      }
    }
    // Each member is the file it came from.
    for (const archive of [board.core, board.toolchain, board.ctags])
      expect(sha(files.get(`boards/${archive.name}`)!), archive.name).toBe(archive.sha256);
    expect(sha(gunzipSync(files.get('arduino-cli/linux-x64/arduino-cli.gz')!))).toBe(sha(readFileSync(arduinoCli)));
    const cached = path.join(scratch, 'cache', 'builds', 'images');
    const key = readdirSync(cached).find((n) => n.startsWith(buildHash) && n.endsWith('.hex'))!;
    expect(files.get(`builds/${key}`)!.equals(readFileSync(path.join(cached, key)))).toBe(true);
    const library = manifest.parts.find((p) => p.id === 'library/PackLib')!;
    expect(library).toMatchObject({
      version: '0.3.1',
      files: [expect.objectContaining({ path: 'libraries/PackLib.tar.gz' })],
    });
    expect(gunzipSync(files.get('libraries/PackLib.tar.gz')!).includes('PackLib/library.properties')).toBe(true);
    // The pruned index carries the one platform version and its two tools, for this OS only.
    const index = JSON.parse(files.get('boards/package_makerdeckavr_index.json')!.toString()) as {
      packages: Array<{ platforms: Array<{ version: string }>; tools: Array<{ name: string; systems: unknown[] }> }>;
    };
    expect(index.packages[0]!.platforms.map((p) => p.version)).toEqual(['1.8.7']);
    expect(index.packages[0]!.tools.map((t) => t.name).sort()).toEqual(['avr-gcc', 'ctags']);
    // No secret in the clear, anywhere: the archive as stored, and each compressed member unpacked.
    const unpacked = [raw, ...[...files].filter(([p]) => p.endsWith('.gz')).map(([, d]) => gunzipSync(d))];
    for (const secret of [WIFI, MQTT, PASSPHRASE])
      for (const data of unpacked) expect(data.includes(secret), secret).toBe(false);
    expect(result.stdout + result.stderr).not.toContain(PASSPHRASE);
    const profile = JSON.parse(
      files.get(manifest.parts.find((p) => p.kind === 'profiles')!.files[0]!.path)!.toString(),
    );
    expect(JSON.stringify(profile)).toContain('pack-bench');

    // The boards/ folder is what an offline install reads: a fresh arduino-cli installs the core from it.
    const boards = path.join(scratch, 'unpacked-boards');
    mkdirSync(boards);
    for (const [member, data] of files)
      if (member.startsWith('boards/')) writeFileSync(path.join(boards, path.basename(member)), data);
    const offline = hostFor({
      ...env,
      MAKERDECK_ARDUINO_CLI_CONFIG: freshArduinoConfig(path.join(scratch, 'offline')),
    });
    const from = await callHost<BoardsInstallSummary>(offline, 'boards.installFrom', { path: boards });
    expect(from.installed).toEqual([`${CORE}@1.8.7`]);

    const inspected = await runCli(['pack', 'inspect', file, '--json'], env);
    expect(JSON.parse(inspected.stdout)).toEqual(manifest);
  }, 600_000);

  it('refuses an existing file, a missing passphrase and an unknown core, leaving nothing behind', async () => {
    const existing = path.join(scratch, 'refusals', 'taken.mdpack');
    mkdirSync(path.dirname(existing));
    writeFileSync(existing, 'not mine to replace');
    const taken = await runCli(['pack', 'create', existing, '--core', CORE], env);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/taken.mdpack exists: choose another file name, or overwrite it/);
    expect(readFileSync(existing, 'utf8')).toBe('not mine to replace');

    const progress: PackProgress[] = [];
    host.bus.on('pack.progress', (p) => progress.push(p));
    const target = path.join(scratch, 'refusals', 'new.mdpack');
    const noPassphrase = await host.call('pack.create', { file: target, profiles: ['pack-bench'] });
    expect(noPassphrase).toMatchObject({
      ok: false,
      error: { code: 'BAD_INPUT', message: expect.stringMatching(/^Profiles are carried encrypted/) },
    });
    const unknown = await host.call('pack.create', { file: target, cores: ['nosuch:core'] });
    expect(unknown).toMatchObject({
      ok: false,
      error: { code: 'BAD_INPUT', message: expect.stringMatching(/^nosuch:core is not installed/) },
    });
    const piped = await runCli(['pack', 'create', target, '--core', 'nosuch:core'], env);
    expect(piped.code).toBe(2);
    expect(piped.stdout).toMatch(/problem: nosuch:core is not installed/);
    expect(readdirSync(path.dirname(target))).toEqual(['taken.mdpack']);
    expect(existsSync(`${target}.partial`)).toBe(false);
    expect(progress.every((p) => p.phase === 'plan')).toBe(true);
  });

  it('carries the core stack images from the rig as one docker save, gzip-compressed', async () => {
    const plan = await callHost<PackPlan>(host, 'pack.plan', { stack: 'core' });
    const images = plan.parts.find((p) => p.id === 'images/core')!;
    expect(plan.problems).toEqual([]);
    expect(images.installedBytes).toBeGreaterThan(10_000_000);
    const file = path.join(scratch, 'images.mdpack');
    // Cancelled while the images are being saved: the operation ends CANCELLED and leaves nothing.
    const stop = host.bus.on('pack.progress', (p: PackProgress) => {
      if (p.part === 'images/core') void host.call('operations.cancel', { operationId: 'pack-cancel' });
    });
    const cancelled = await host.call('pack.create', {
      file,
      stack: 'core',
      cliTargets: [],
      operationId: 'pack-cancel',
    });
    stop();
    expect(cancelled).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    expect(readdirSync(scratch).filter((n) => n.startsWith('images.mdpack'))).toEqual([]);

    const summary = await callHost<PackCreateSummary>(host, 'pack.create', { file, stack: 'core', cliTargets: [] });
    expect(summary.parts.map((p) => p.id)).toEqual(['images/core']);
    // Streamed through the checking reader, unzipped and read as docker save's archive.
    let saved: Array<{ RepoTags: string[] }> = [];
    const manifest = await readPack(file, {
      onMember: async (member) => {
        const extract = tar.extract();
        extract.on('entry', (header, stream, next) => {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => header.name === 'manifest.json' && chunks.push(c));
          stream.on('end', () => {
            if (chunks.length) saved = JSON.parse(Buffer.concat(chunks).toString());
            next();
          });
        });
        await pipeline(member.stream, createGunzip(), extract);
      },
    });
    const part = manifest.parts[0]!;
    expect(part.files).toEqual([expect.objectContaining({ path: 'images/stack-core.tar.gz' })]);
    expect(part.bytes).toBeLessThan(part.installedBytes!);
    const tags = saved.flatMap((image) => image.RepoTags).sort();
    expect(tags).toContain('rabbitmq:4.1-management');
    expect(tags).toContain('influxdb:1.11');
    console.log(
      `images/core: ${(part.bytes / 1e6).toFixed(1)} MB in the pack, ${(part.installedBytes! / 1e6).toFixed(1)} MB in Docker, ${tags.join(', ')}, ${summary.ms} ms`,
    );
  }, 600_000);
});
