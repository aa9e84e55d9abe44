import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareVersions, openOfflineFolder, verifyArchive } from '../../electron/core/boards/offlineFolder';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-offline-unit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const resource = (name: string, body: string) => ({
  archiveFileName: name,
  checksum: `SHA-256:${createHash('sha256').update(body).digest('hex')}`,
  size: String(Buffer.byteLength(body)),
  url: `https://offline.invalid/${name}`,
});

function writeIndex(index: unknown, name = 'package_lab_index.json'): void {
  writeFileSync(path.join(dir, name), typeof index === 'string' ? index : JSON.stringify(index));
}

describe('openOfflineFolder', () => {
  it('reads the index, finds the archives it names that are present, and offers the newest core of each', async () => {
    writeFileSync(path.join(dir, 'core-2.tgz'), 'core two');
    writeFileSync(path.join(dir, 'tool.tgz'), 'tool');
    writeIndex({
      packages: [
        {
          name: 'lab',
          platforms: [
            { architecture: 'avr', version: '1.10.0', ...resource('core-2.tgz', 'core two') },
            { architecture: 'avr', version: '1.9.0', ...resource('core-1.tgz', 'core one') },
          ],
          tools: [
            { name: 'gcc', version: '5.4.0', systems: [{ host: 'x86_64-linux-gnu', ...resource('tool.tgz', 'tool') }] },
          ],
        },
      ],
    });
    const folder = await openOfflineFolder(dir);
    expect(folder.cores).toEqual(['lab:avr@1.10.0']);
    expect(folder.archives.map((a) => a.name)).toEqual(['core-2.tgz', 'tool.tgz']);
    for (const archive of folder.archives) await verifyArchive(archive);
    await folder.close();
  });

  it('says in one line what is wrong with a folder that is no board package', async () => {
    await expect(openOfflineFolder(path.join(dir, 'nope'))).rejects.toThrow(/does not exist/);
    await expect(openOfflineFolder(dir)).rejects.toThrow(/holds no package_<name>_index\.json/);
    writeIndex('{"packages": [');
    await expect(openOfflineFolder(dir)).rejects.toThrow(/is not JSON/);
    writeIndex({ packages: [{ name: 'lab', platforms: [{ architecture: 'avr' }] }] });
    await expect(openOfflineFolder(dir)).rejects.toThrow(
      /is not a board index \(packages\.0\.platforms\.0\.archiveFileName/,
    );
    writeIndex({
      packages: [{ name: 'x', platforms: [{ architecture: 'a', version: '1', ...resource('../evil', '') }] }],
    });
    await expect(openOfflineFolder(dir)).rejects.toThrow(/is not a board index/);
    writeFileSync(path.join(dir, 'notes.txt'), 'x');
    await expect(openOfflineFolder(path.join(dir, 'notes.txt'))).rejects.toThrow(/not a folder nor a \.tar\.gz/);
  });
});

describe('verifyArchive', () => {
  it('refuses a wrong size and a wrong checksum, naming the file', async () => {
    const file = path.join(dir, 'a.tgz');
    writeFileSync(file, 'abc');
    const good = resource('a.tgz', 'abc');
    await expect(verifyArchive({ name: 'a.tgz', file, size: 4, checksum: good.checksum })).rejects.toThrow(
      /has 3 bytes, its index says 4/,
    );
    await expect(
      verifyArchive({ name: 'a.tgz', file, size: 3, checksum: `SHA-256:${'0'.repeat(64)}` }),
    ).rejects.toThrow(/a\.tgz does not match its SHA-256 checksum/);
    await expect(verifyArchive({ name: 'a.tgz', file, size: 3, checksum: 'CRC:1' })).rejects.toThrow(
      /no usable checksum/,
    );
  });
});

describe('compareVersions', () => {
  it('compares numeric parts as numbers', () => {
    expect(compareVersions('1.10.0', '1.9.0')).toBe(1);
    expect(compareVersions('3.0.7', '3.0.7')).toBe(0);
    expect(compareVersions('2.0', '2.0.1')).toBe(-1);
  });
});
