// A pack import without services: a real pack (PackWriter) with arduino-cli, a library, a build and
// an image bundle, imported into a fresh data folder. Docker's image load and the core install are
// stand-ins here (the integration test packImport.test.ts uses the real ones).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PackManifest, PackPart, PackProgress } from '../../electron/contract';
import { listCachedBuilds, readCachedBuild } from '../../electron/core/firmware/buildCache';
import { arduinoCliHome, dataFolderArduinoCliPath } from '../../electron/core/firmware/arduinoCliHome';
import { Operations } from '../../electron/core/operations';
import { PackWriter } from '../../electron/core/pack/packArchive';
import { encodeExport } from '../../electron/core/profiles/exportFile';
import { importPack, type PackImportDeps } from '../../electron/core/pack/packImport';

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-import-unit-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

const TARGET = `${process.platform}-${process.arch}`;
const KEY = 'c0ffee'.padEnd(64, '0');
const sha = (body: Buffer | string) => createHash('sha256').update(body).digest('hex');

/** Writes a pack with the four parts from files made here; returns its path. */
async function writePack(): Promise<string> {
  const src = path.join(scratch, 'src');
  mkdirSync(path.join(src, 'lib', 'Blinker'), { recursive: true });
  const binary = '#!/bin/sh\necho \'{"VersionString":"1.0.4"}\'\n';
  writeFileSync(path.join(src, 'arduino-cli.gz'), gzipSync(binary));
  writeFileSync(path.join(src, 'lib', 'Blinker', 'library.properties'), 'name=Blinker\nversion=1.0.0\n');
  execFileSync('tar', ['-czf', path.join(src, 'Blinker.tar.gz'), '-C', path.join(src, 'lib'), 'Blinker']);
  const hex = ':00000001FF\n';
  writeFileSync(path.join(src, 'image.hex'), hex);
  const record = {
    fqbn: 'makerdeckavr:avr:uno',
    sizes: [{ name: 'text', size: 4, max: 32256 }],
    format: 'hex',
    coreVersion: '1.8.7',
    cliVersion: '1.0.4',
    builtAt: '2026-12-01T09:30:00.000Z',
  };
  writeFileSync(path.join(src, 'record.json'), JSON.stringify({ ...record, sha256: sha(hex) }));
  writeFileSync(path.join(src, 'images.tar.gz'), gzipSync('not really docker'));
  const file = path.join(scratch, 'lab.mdpack');
  const writer = await PackWriter.open(file);
  const part = async (id: string, kind: PackPart['kind'], members: Array<[string, string]>): Promise<PackPart> => {
    const files = [];
    for (const [member, source] of members)
      files.push(await writer.add({ path: member, file: path.join(src, source) }));
    const bytes = files.reduce((s, f) => s + f.bytes, 0);
    return { id, kind, title: id, bytes, files, ...(kind === 'arduino-cli' ? { installedBytes: binary.length } : {}) };
  };
  const manifest: PackManifest = {
    format: 'makerdeck-pack',
    formatVersion: 1,
    id: '0123456789abcdef',
    name: 'Unit lab',
    createdAt: new Date().toISOString(),
    createdBy: { makerdeck: '0.1.0', platform: process.platform, arch: process.arch },
    parts: [
      await part(`arduino-cli/${TARGET}`, 'arduino-cli', [[`arduino-cli/${TARGET}/arduino-cli.gz`, 'arduino-cli.gz']]),
      await part('library/Blinker', 'library', [['libraries/Blinker.tar.gz', 'Blinker.tar.gz']]),
      await part(`build/${KEY.slice(0, 16)}`, 'build', [
        [`builds/${KEY}.hex`, 'image.hex'],
        [`builds/${KEY}.json`, 'record.json'],
      ]),
      await part('images/core', 'images', [['images/stack-core.tar.gz', 'images.tar.gz']]),
    ],
  };
  await writer.finish(manifest);
  return file;
}

function deps(dataDir: string, loadImages: PackImportDeps['loadImages']) {
  const progress: PackProgress[] = [];
  const value: PackImportDeps = {
    dataDir,
    buildCacheDir: path.join(scratch, 'cache', 'builds'),
    operations: new Operations(),
    emit: (p) => progress.push(p),
    installCore: () => Promise.reject(new Error('no core in this pack')),
    loadImages,
    profiles: { list: async () => [], import: () => Promise.reject(new Error('no profiles in this pack')) },
  };
  return { deps: value, progress };
}

/** Every file under `dir` with its bytes, for "nothing changed" checks. */
function snapshot(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, name);
    if (statSync(file).isFile()) out[name] = sha(readFileSync(file));
  }
  return out;
}

describe('importPack (stand-in Docker load, no cores)', () => {
  it('installs every part, says the space first, and a second run says already for each step', async () => {
    const file = await writePack();
    const dataDir = path.join(scratch, 'data');
    const loaded: string[] = [];
    const { deps: d, progress } = deps(dataDir, async (bundle) => (loaded.push(bundle), ['stand-in:1']));
    const summary = await importPack(d, { file });
    expect(summary.steps.map((s) => [s.part, s.result])).toEqual([
      [`arduino-cli/${TARGET}`, 'done'],
      ['arduino-cli/config', 'done'],
      ['library/Blinker', 'done'],
      [`build/${KEY.slice(0, 16)}`, 'done'],
      ['images/core', 'done'],
    ]);
    const phases = progress.map((p) => p.phase);
    expect(phases.indexOf('space')).toBeGreaterThan(phases.lastIndexOf('verify'));
    expect(phases.indexOf('space')).toBeLessThan(phases.indexOf('extract'));
    expect(summary.spaceNeeded).toBeGreaterThan(0);
    expect(execFileSync(dataFolderArduinoCliPath(dataDir), ['version'], { encoding: 'utf8' })).toContain('1.0.4');
    const home = arduinoCliHome(dataDir);
    expect(summary.arduinoCliConfig).toBe(home.configFile);
    expect(readFileSync(path.join(home.user, 'libraries', 'Blinker', 'library.properties'), 'utf8')).toContain(
      'Blinker',
    );
    expect((await readCachedBuild(d.buildCacheDir, KEY))?.fqbn).toBe('makerdeckavr:avr:uno');
    // The build keeps what made it and when, as firmware.builds lists it here.
    expect(await listCachedBuilds(d.buildCacheDir)).toMatchObject([
      { key: KEY, coreVersion: '1.8.7', cliVersion: '1.0.4', builtAt: '2026-12-01T09:30:00.000Z' },
    ]);
    expect(loaded).toHaveLength(1);
    // Only the state is kept in the pack's folder once it is done.
    expect(readdirSync(path.join(dataDir, 'packs', '0123456789abcdef'))).toEqual(['import.json']);

    const again = await importPack(deps(dataDir, async () => ['stand-in:1']).deps, { file });
    expect(again.steps.every((s) => s.result === 'already')).toBe(true);
  });

  it('resumes after a step failed: the steps done before say already, the failed one runs again', async () => {
    const file = await writePack();
    const dataDir = path.join(scratch, 'data');
    const failing = deps(dataDir, () => Promise.reject(new Error('Docker is not running')));
    await expect(importPack(failing.deps, { file })).rejects.toThrow('Docker is not running');
    // The extracted files stay for the next run.
    expect(existsSync(path.join(dataDir, 'packs', '0123456789abcdef', 'files', 'images'))).toBe(true);
    const summary = await importPack(deps(dataDir, async () => ['stand-in:1']).deps, { file });
    expect(summary.steps.map((s) => s.result)).toEqual(['already', 'already', 'already', 'already', 'done']);
  });

  it('a pack changed by one byte is refused in one line and nothing is written', async () => {
    const file = await writePack();
    const bytes = readFileSync(file);
    const at = bytes.indexOf(':00000001FF'); // the build's image, a member in the middle
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] = '1'.charCodeAt(0);
    writeFileSync(file, bytes);
    const dataDir = path.join(scratch, 'data');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'settings.json'), '{}');
    const before = snapshot(dataDir);
    const { deps: d } = deps(dataDir, async () => []);
    const error = await importPack(d, { file }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'BAD_INPUT' });
    expect((error as Error).message.split('\n')).toHaveLength(1);
    expect((error as Error).message).toContain(`builds/${KEY}.hex does not match its SHA-256`);
    expect(snapshot(dataDir)).toEqual(before);
    expect(existsSync(d.buildCacheDir)).toBe(false);
  });

  it('cancelled while verifying: nothing is written', async () => {
    const file = await writePack();
    const dataDir = path.join(scratch, 'data');
    const { deps: d } = deps(dataDir, async () => []);
    const running = importPack(d, { file, operationId: 'op-1' });
    expect(d.operations.cancel('op-1')).toBe(true);
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(dataDir)).toBe(false);
  });

  it('profiles: refused without the passphrase or with a wrong one before anything is written; an existing id is already', async () => {
    const fields = {
      name: 'Bench A',
      board: 'makerdeckavr:avr:uno',
      wifiSsid: '',
      mqttHost: '',
      mqttPort: 1883,
      mqttTls: false,
      mqttUsername: '',
      deviceId: 'bench-a',
      telemetryIntervalS: 5,
    };
    const src = path.join(scratch, 'profiles-src');
    mkdirSync(src);
    writeFileSync(path.join(src, 'a.json'), await encodeExport(fields, { mqttPassword: 'mqtt-one' }, 'right one'));
    const other = { ...fields, name: 'Bench B', deviceId: 'bench-b' };
    writeFileSync(path.join(src, 'b.json'), await encodeExport(other, { mqttPassword: 'mqtt-two' }, 'right one'));
    const file = path.join(scratch, 'profiles.mdpack');
    const writer = await PackWriter.open(file);
    const files = [
      await writer.add({ path: 'profiles/bench-a.json', file: path.join(src, 'a.json') }),
      await writer.add({ path: 'profiles/bench-b.json', file: path.join(src, 'b.json') }),
    ];
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    await writer.finish({
      format: 'makerdeck-pack',
      formatVersion: 1,
      id: 'fedcba9876543210',
      createdAt: new Date().toISOString(),
      createdBy: { makerdeck: '0.1.0', platform: process.platform, arch: process.arch },
      parts: [{ id: 'profiles', kind: 'profiles', title: 'Profiles', bytes, files }],
    });
    const dataDir = path.join(scratch, 'data');
    const imported: string[] = [];
    const { deps: d } = deps(dataDir, async () => []);
    // A stand-in for the keychain-backed profiles service: bench-a is on this machine already.
    d.profiles = {
      list: async () => [{ id: 'bench-a', name: 'Bench A' }, ...imported.map((id) => ({ id, name: id }))],
      import: async (content, passphrase) => {
        expect(passphrase).toBe('right one');
        const id = (JSON.parse(content) as { profile: { deviceId: string } }).profile.deviceId;
        imported.push(id);
        return { id, name: id };
      },
    };
    await expect(importPack(d, { file })).rejects.toThrow(/carries 2 encrypted profile\(s\): give the passphrase/);
    await expect(importPack(d, { file, passphrase: 'wrong' })).rejects.toThrow(/Wrong passphrase.*Nothing was changed/);
    expect(existsSync(dataDir)).toBe(false);
    const summary = await importPack(d, { file, passphrase: 'right one' });
    expect(summary.steps).toEqual([
      expect.objectContaining({ part: 'profiles', result: 'done', detail: 'imported bench-b; already there: bench-a' }),
    ]);
    expect(imported).toEqual(['bench-b']);
  });
});
