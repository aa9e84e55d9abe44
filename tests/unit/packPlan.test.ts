import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeCachedBuild } from '../../electron/core/firmware/buildCache';
import type { PackCli } from '../../electron/core/pack/packCli';
import { planPack, planView, type PackDeps } from '../../electron/core/pack/packPlan';
import { systemsFor } from '../../electron/core/pack/planCores';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-plan-unit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const resource = (name: string, body: string, host?: string) => ({
  archiveFileName: name,
  checksum: `SHA-256:${createHash('sha256').update(body).digest('hex')}`,
  size: String(Buffer.byteLength(body)),
  url: `https://offline.invalid/${name}`,
  ...(host ? { host } : {}),
});

/** A data folder as arduino-cli leaves it: an index with two platform versions and a tool for two OSes. */
function dataFolder(): { data: string; downloads: string; binary: string } {
  const data = path.join(dir, 'data');
  const downloads = path.join(dir, 'downloads');
  mkdirSync(data);
  mkdirSync(path.join(downloads, 'packages'), { recursive: true });
  writeFileSync(
    path.join(data, 'package_lab_index.json'),
    JSON.stringify({
      packages: [
        {
          name: 'lab',
          maintainer: 'Lab',
          websiteURL: 'https://lab.invalid',
          platforms: [
            { ...resource('core-1.tgz', 'core one'), name: 'Lab AVR', architecture: 'avr', version: '1.0.0' },
            {
              ...resource('core-2.tgz', 'core two'),
              name: 'Lab AVR',
              architecture: 'avr',
              version: '2.0.0',
              toolsDependencies: [{ packager: 'lab', name: 'gcc', version: '5' }],
            },
          ],
          tools: [
            {
              name: 'gcc',
              version: '5',
              systems: [
                resource('gcc-linux.tgz', 'gcc linux', 'x86_64-linux-gnu'),
                resource('gcc-win.zip', 'gcc win', 'i686-mingw32'),
              ],
            },
            { name: 'gcc', version: '4', systems: [resource('gcc4.tgz', 'old', 'x86_64-linux-gnu')] },
          ],
        },
      ],
    }),
  );
  const archives: Array<[string, string]> = [
    ['core-2.tgz', 'core two'],
    ['gcc-linux.tgz', 'gcc linux'],
  ];
  for (const [name, body] of archives) writeFileSync(path.join(downloads, 'packages', name), body);
  const binary = path.join(dir, 'arduino-cli');
  writeFileSync(binary, 'cli binary');
  return { data, downloads, binary };
}

/** A stand-in for arduino-cli: answers from the folder above, as `core list` / `config get` would. */
function standInCli(folder: ReturnType<typeof dataFolder>, installed: Record<string, string>): PackCli {
  return {
    binary: async () => ({ path: folder.binary, version: '1.0.4' }),
    installedCores: async () => new Map(Object.entries(installed)),
    installedLibraries: async () => [],
    directory: async (which: 'data' | 'downloads') => (which === 'data' ? folder.data : folder.downloads),
    downloadCore: async () => {},
  } as unknown as PackCli;
}

function deps(cli: PackCli, over: Partial<PackDeps> = {}): PackDeps {
  return {
    cli,
    resourcesDir: path.join(dir, 'resources'),
    buildCacheDir: path.join(dir, 'builds'),
    profiles: {
      idOf: async (ref) => (ref === 'Room 4' || ref === 'room-4' ? 'room-4' : undefined),
      exportEncrypted: async (ref, passphrase) => JSON.stringify({ ref, sealedWith: passphrase.length }),
    },
    ...over,
  };
}

describe('systemsFor', () => {
  const systems = [
    'x86_64-linux-gnu',
    'x86_64-pc-linux-gnu',
    'aarch64-linux-gnu',
    'i686-mingw32',
    'x86_64-apple-darwin12',
  ].map((host) => ({ archiveFileName: `${host}.tgz`, checksum: '', size: 1, host }));
  it('picks the archives this OS runs, falling back where a platform runs another one', () => {
    expect(systemsFor(systems, 'linux-x64').map((s) => s.host)).toEqual(['x86_64-linux-gnu', 'x86_64-pc-linux-gnu']);
    expect(systemsFor(systems, 'linux-arm64').map((s) => s.host)).toEqual(['aarch64-linux-gnu']);
    expect(systemsFor(systems, 'win32-x64').map((s) => s.host)).toEqual(['i686-mingw32']);
    expect(systemsFor(systems, 'darwin-arm64').map((s) => s.host)).toEqual(['x86_64-apple-darwin12']);
    expect(systemsFor(systems.slice(0, 1), 'darwin-x64')).toEqual([]);
  });
});

describe('planPack (stand-in arduino-cli over a real data folder)', () => {
  it('plans a core from its index and archives: the pruned index keeps one version and its tool for this OS', async () => {
    const folder = dataFolder();
    const blueprint = await planPack(deps(standInCli(folder, { 'lab:avr': '2.0.0' })), { cores: ['lab:avr'] });
    expect(blueprint.problems).toEqual([]);
    const core = blueprint.parts.find((p) => p.id === 'core/lab:avr')!;
    expect(core).toMatchObject({ kind: 'core', title: 'Lab AVR', version: '2.0.0' });
    expect(core.members.map((m) => m.path)).toEqual([
      'boards/package_lab_index.json',
      'boards/core-2.tgz',
      'boards/gcc-linux.tgz',
    ]);
    const context = { signal: new AbortController().signal, cli: standInCli(folder, {}), scratch: (n: string) => n };
    const index = await core.members[0]!.source(context);
    const pruned = JSON.parse((index as { text: string }).text);
    expect(pruned.packages).toHaveLength(1);
    expect(pruned.packages[0]).toMatchObject({ name: 'lab', maintainer: 'Lab', websiteURL: 'https://lab.invalid' });
    expect(pruned.packages[0].platforms.map((p: { version: string }) => p.version)).toEqual(['2.0.0']);
    expect(pruned.packages[0].tools).toEqual([
      { name: 'gcc', version: '5', systems: [expect.objectContaining({ host: 'x86_64-linux-gnu' })] },
    ]);
    const archive = await core.members[1]!.source(context);
    expect(archive).toEqual({ path: 'boards/core-2.tgz', file: path.join(folder.downloads, 'packages', 'core-2.tgz') });
    // The index entry's size is the text's own; the archives', the index's.
    expect(core.members.slice(1).map((m) => m.bytes)).toEqual([8, 9]);

    const view = planView(blueprint);
    expect(view.parts.map((p) => [p.id, p.files])).toEqual([
      ['arduino-cli/linux-x64', 1],
      ['core/lab:avr', 3],
    ]);
    expect(view.bytes).toBe(view.parts.reduce((s, p) => s + p.bytes, 0));
  });

  it('names each thing it cannot carry in one line with the fix', async () => {
    const folder = dataFolder();
    const cacheDir = path.join(dir, 'builds');
    const key = 'a'.repeat(64);
    await writeCachedBuild(cacheDir, {
      key,
      buildHash: key.slice(0, 16),
      fqbn: 'lab:avr:uno',
      sizes: [],
      image: { format: 'hex', data: Buffer.from(':00000001FF\n') },
      coreVersion: '1.5.0',
    });
    const damaged = 'b'.repeat(64);
    writeFileSync(path.join(cacheDir, 'images', `${damaged}.json`), '{"format":"hex","sha256":"00"}');
    const blueprint = await planPack(deps(standInCli(folder, { 'lab:avr': '1.5.0', 'other:avr': '1.0.0' })), {
      cores: ['lab:avr', 'other:avr', 'gone:avr'],
      builds: ['aaaaaaaaaaaaaaaa', 'cccccccccccccccc'],
      profiles: ['Room 4'],
      cliTargets: ['win32-x64'],
    });
    expect(blueprint.problems).toEqual([
      expect.stringMatching(/^There is no arduino-cli for win32-x64 in .*: build them \(npm run dist\)/),
      'lab:avr@1.5.0 is in no board index arduino-cli keeps: update the indexes (makerdeck boards index)',
      'other:avr@1.0.0 is in no board index arduino-cli keeps: update the indexes (makerdeck boards index)',
      'gone:avr is not installed: install it first (makerdeck boards install gone:avr)',
      'No cached build cccccccccccccccc: compile the firmware for it first (makerdeck compile)',
      expect.stringMatching(/^Profiles are carried encrypted: give a passphrase/),
    ]);
    expect(blueprint.parts.map((p) => p.id)).toEqual(['build/aaaaaaaaaaaaaaaa']);

    const all = await planPack(deps(standInCli(folder, {})), {
      builds: 'all',
      profiles: ['Room 4', 'nobody'],
      passphrase: 'pw',
    });
    expect(all.problems).toEqual([
      'The cached build bbbbbbbbbbbbbbbb is damaged: compile it again (makerdeck compile)',
      'No profile "nobody": makerdeck profile list shows them',
    ]);
    const profiles = all.parts.find((p) => p.kind === 'profiles')!;
    expect(profiles.members.map((m) => m.path)).toEqual(['profiles/room-4.json']);
    const build = all.parts.find((p) => p.kind === 'build')!;
    expect(build.members.map((m) => m.path)).toEqual([`builds/${key}.hex`, `builds/${key}.json`]);
    expect(build.version).toBe('1.5.0'); // the core it was built with
  });

  it('says the images cannot be carried when the stack is missing some', async () => {
    const folder = dataFolder();
    const images = {
      sizes: async () => ({ images: ['a:1', 'b:2'], bytes: 10, missing: ['b:2'] }),
      save: async () => undefined,
    };
    const blueprint = await planPack(deps(standInCli(folder, {}), { images }), { stack: 'core' });
    expect(blueprint.problems).toEqual([
      'These images are not on this computer: b:2 — start the stack (core) once while online first',
    ]);
  });
});
