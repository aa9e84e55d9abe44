import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ARDUINO_CLI_VERSION,
  arduinoCliCacheEntry,
  fillArduinoCliResources,
  readRecord,
} from '../../scripts/buildArduinoCli.js';

// The cache is primed with stand-in "binaries" (a few bytes each), so no Go build runs here; the real
// build and the packaged binary are checked by `npm run check:package`.
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
let dir: string;
let cacheDir: string;
let resourcesDir: string;

function primeCache(target: 'linux-x64' | 'win32-x64' | 'darwin-arm64', content: string) {
  const entry = arduinoCliCacheEntry(target, cacheDir);
  mkdirSync(entry.outDir, { recursive: true });
  writeFileSync(entry.bin, content);
  const stamp = { inputs: entry.inputs, sha256: sha256(content), goVersion: 'go-stand-in' };
  writeFileSync(entry.stampFile, JSON.stringify(stamp));
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-build-cli-'));
  cacheDir = path.join(dir, 'cache');
  resourcesDir = path.join(dir, 'resources', 'arduino-cli');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('fillArduinoCliResources (stand-in cache)', () => {
  it('copies each target from the cache and records SHA256SUMS and build.json', async () => {
    primeCache('linux-x64', 'stand-in linux');
    primeCache('win32-x64', 'stand-in windows');
    const log: string[] = [];
    const builds = await fillArduinoCliResources({
      targets: ['linux-x64', 'win32-x64'],
      cacheDir,
      resourcesDir,
      log: (line) => log.push(line),
    });
    expect(builds.map((b) => [b.target, b.built])).toEqual([
      ['linux-x64', false],
      ['win32-x64', false],
    ]);
    expect(log).toEqual([]);
    expect(readFileSync(path.join(resourcesDir, 'win32-x64', 'arduino-cli.exe'), 'utf8')).toBe('stand-in windows');
    expect(readFileSync(path.join(resourcesDir, 'SHA256SUMS'), 'utf8')).toBe(
      `${sha256('stand-in linux')}  linux-x64/arduino-cli\n${sha256('stand-in windows')}  win32-x64/arduino-cli.exe\n`,
    );
    expect(readRecord(resourcesDir)).toEqual({
      version: ARDUINO_CLI_VERSION,
      targets: {
        'linux-x64': {
          file: 'linux-x64/arduino-cli',
          bytes: 14,
          sha256: sha256('stand-in linux'),
          goVersion: 'go-stand-in',
        },
        'win32-x64': {
          file: 'win32-x64/arduino-cli.exe',
          bytes: 16,
          sha256: sha256('stand-in windows'),
          goVersion: 'go-stand-in',
        },
      },
    });
  });

  it('keeps targets already there, drops one whose file is gone, starts again on a new version', async () => {
    primeCache('linux-x64', 'stand-in linux');
    primeCache('darwin-arm64', 'stand-in mac');
    await fillArduinoCliResources({ targets: ['linux-x64', 'darwin-arm64'], cacheDir, resourcesDir, log: () => {} });
    rmSync(path.join(resourcesDir, 'darwin-arm64'), { recursive: true });
    await fillArduinoCliResources({ targets: ['linux-x64'], cacheDir, resourcesDir, log: () => {} });
    expect(Object.keys(readRecord(resourcesDir).targets)).toEqual(['linux-x64']);

    const old = { version: '0.0.1', targets: { 'win32-x64': { file: 'linux-x64/arduino-cli', bytes: 14 } } };
    writeFileSync(path.join(resourcesDir, 'build.json'), JSON.stringify(old));
    await fillArduinoCliResources({ targets: ['linux-x64'], cacheDir, resourcesDir, log: () => {} });
    expect(readRecord(resourcesDir)).toMatchObject({ version: ARDUINO_CLI_VERSION, targets: { 'linux-x64': {} } });
    expect(Object.keys(readRecord(resourcesDir).targets)).toEqual(['linux-x64']);
  });

  it('refuses a target the package does not have, in one line', async () => {
    await expect(
      // @ts-expect-error: not a target
      fillArduinoCliResources({ targets: ['linux-riscv64'], cacheDir, resourcesDir, log: () => {} }),
    ).rejects.toThrow(/unknown arduino-cli target "linux-riscv64": use one of linux-x64, linux-arm64/);
  });
});
