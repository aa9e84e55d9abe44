import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildKey,
  listCachedBuilds,
  readCachedBuild,
  writeCachedBuild,
  type CachedBuild,
} from '../../electron/core/firmware/buildCache';

let dir: string;
const parts = { fqbn: 'arduino:avr:uno', coreVersion: '1.8.6', cliVersion: '1.0.4' };

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-buildcache-'));
  writeFileSync(path.join(dir, 'firmware.ino'), 'void setup() {}\nvoid loop() {}\n');
  writeFileSync(path.join(dir, 'helper.cpp'), 'int x;\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the build cache', () => {
  it('keys a build by its sources, FQBN, core and arduino-cli versions, and nothing else', async () => {
    const key = await buildKey(dir, parts);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await buildKey(dir, parts)).toBe(key);
    writeFileSync(path.join(dir, 'README.md'), 'not a source');
    writeFileSync(path.join(dir, 'config.h'), '#define OLD 1');
    expect(await buildKey(dir, parts)).toBe(key);
    const others = [
      await buildKey(dir, { ...parts, fqbn: 'arduino:avr:nano' }),
      await buildKey(dir, { ...parts, coreVersion: '1.8.7' }),
      await buildKey(dir, { ...parts, cliVersion: '1.1.0' }),
    ];
    writeFileSync(path.join(dir, 'helper.cpp'), 'int y;\n');
    others.push(await buildKey(dir, parts));
    expect(new Set([key, ...others]).size).toBe(5);
  });

  it('gives back what it kept, and treats a damaged image as a miss', async () => {
    const cacheDir = path.join(dir, 'cache');
    const key = await buildKey(dir, parts);
    expect(await readCachedBuild(cacheDir, key)).toBeUndefined();
    const build = {
      key,
      buildHash: key.slice(0, 16),
      fqbn: parts.fqbn,
      sizes: [{ name: 'text', size: 7000, max: 32256 }],
      image: { format: 'hex' as const, data: Buffer.from(':00000001FF\n') },
      coreVersion: parts.coreVersion,
      cliVersion: parts.cliVersion,
    };
    await writeCachedBuild(cacheDir, build);
    expect(await readCachedBuild(cacheDir, key)).toEqual(build);
    expect(readdirSync(path.join(cacheDir, 'images')).sort()).toEqual([`${key}.hex`, `${key}.json`]);
    writeFileSync(path.join(cacheDir, 'images', `${key}.hex`), ':00000001FE\n');
    expect(await readCachedBuild(cacheDir, key)).toBeUndefined();
  });
});

describe('listing the build cache', () => {
  const build = (key: string, change: Partial<CachedBuild> = {}): CachedBuild => ({
    key,
    buildHash: key.slice(0, 16),
    fqbn: parts.fqbn,
    sizes: [{ name: 'text', size: 7000, max: 32256 }],
    image: { format: 'hex', data: Buffer.from(':00000001FF\n') },
    ...change,
  });
  const keys = ['a', 'b', 'c', 'd'].map((c) => c.repeat(64));

  it('lists whole builds newest first, with their versions, and leaves damaged ones out', async () => {
    const cacheDir = path.join(dir, 'cache');
    const images = path.join(cacheDir, 'images');
    // Built with versions and a time in the record.
    await writeCachedBuild(cacheDir, build(keys[0]!, { ...parts, builtAt: '2026-11-02T08:00:00.000Z' }));
    // An ESP build written the way records were before versions were kept: its time is the record file's.
    const bin = Buffer.alloc(300_000, 0xe9);
    await writeCachedBuild(
      cacheDir,
      build(keys[1]!, { fqbn: 'esp32:esp32:esp32', image: { format: 'bin', data: bin } }),
    );
    const older = { fqbn: 'esp32:esp32:esp32', sizes: [], format: 'bin' };
    writeFileSync(path.join(images, `${keys[1]}.json`), JSON.stringify({ ...older, sha256: sha256(bin) }));
    utimesSync(
      path.join(images, `${keys[1]}.json`),
      new Date('2026-12-01T10:00:00Z'),
      new Date('2026-12-01T10:00:00Z'),
    );
    // Damaged: a record that is no JSON, and an image changed after its record was written.
    await writeCachedBuild(cacheDir, build(keys[2]!));
    writeFileSync(path.join(images, `${keys[2]}.json`), '{"fqbn": "arduino:avr:uno", "siz');
    await writeCachedBuild(cacheDir, build(keys[3]!));
    writeFileSync(path.join(images, `${keys[3]}.hex`), ':00000001FE\n');
    writeFileSync(path.join(images, 'notes.json'), '{}'); // not a build's record: not looked at

    expect(await listCachedBuilds(cacheDir)).toEqual([
      {
        buildHash: keys[1]!.slice(0, 16),
        key: keys[1],
        fqbn: 'esp32:esp32:esp32',
        format: 'bin',
        bytes: 300_000,
        builtAt: '2026-12-01T10:00:00.000Z',
      },
      {
        buildHash: keys[0]!.slice(0, 16),
        key: keys[0],
        fqbn: 'arduino:avr:uno',
        coreVersion: '1.8.6',
        cliVersion: '1.0.4',
        format: 'hex',
        bytes: 12,
        builtAt: '2026-11-02T08:00:00.000Z',
      },
    ]);
  });

  it('stamps a new build with the time it was kept', async () => {
    const cacheDir = path.join(dir, 'cache');
    const before = Date.now();
    await writeCachedBuild(cacheDir, build(keys[0]!));
    const [listed] = await listCachedBuilds(cacheDir);
    expect(Date.parse(listed!.builtAt)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(listed!.builtAt)).toBeLessThanOrEqual(Date.now());
  });

  it('finds no builds in a missing, empty or misplaced cache', async () => {
    expect(await listCachedBuilds(path.join(dir, 'no-such-cache'))).toEqual([]);
    mkdirSync(path.join(dir, 'empty', 'images'), { recursive: true });
    expect(await listCachedBuilds(path.join(dir, 'empty'))).toEqual([]);
    expect(await listCachedBuilds(path.join(dir, 'firmware.ino'))).toEqual([]);
  });
});

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
