import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildKey, readCachedBuild, writeCachedBuild } from '../../electron/core/firmware/buildCache';

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
    };
    await writeCachedBuild(cacheDir, build);
    expect(await readCachedBuild(cacheDir, key)).toEqual(build);
    expect(readdirSync(path.join(cacheDir, 'images')).sort()).toEqual([`${key}.hex`, `${key}.json`]);
    writeFileSync(path.join(cacheDir, 'images', `${key}.hex`), ':00000001FE\n');
    expect(await readCachedBuild(cacheDir, key)).toBeUndefined();
  });
});
