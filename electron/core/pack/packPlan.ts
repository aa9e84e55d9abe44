// What a pack will hold, part by part, before anything is written: arduino-cli binaries, board cores,
// libraries, cached firmware builds, the stack's images and encrypted profiles. What cannot be carried
// is a problem of one line with the fix; the writer refuses a plan with problems.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { z } from 'zod';
import { MakerdeckError, type CliTarget, type PackContentsArgs, type PackPlan } from '../../contract';

type StackProfile = 'core' | 'full';
import { readCachedBuild } from '../firmware/buildCache';
import type { PackCli } from './packCli';
import { folderSize, planCores } from './planCores';
import type { PlannedMember, PlannedPart } from './plannedPart';

export interface PackDeps {
  cli: PackCli;
  /** Where the packaged app keeps arduino-cli for every target (resources/arduino-cli/<target>/). */
  resourcesDir: string;
  buildCacheDir: string;
  /** The stack's images; absent: a pack cannot carry them here. */
  images?: {
    sizes(profile: StackProfile): Promise<{ images: string[]; bytes: number; missing: string[] }>;
    /** Writes the profile's images as `docker save` does (uncompressed) to a file. */
    save(profile: StackProfile, file: string): Promise<unknown>;
  };
  profiles: {
    /** The id of a profile named by id or name, or undefined. */
    idOf(ref: string): Promise<string | undefined>;
    /** The profile's export, its secrets encrypted with the passphrase. */
    exportEncrypted(ref: string, passphrase: string): Promise<string>;
  };
}

export type PackContents = z.input<typeof PackContentsArgs>;

export interface PackBlueprint {
  parts: PlannedPart[];
  problems: string[];
}

const THIS_TARGET = `${process.platform}-${process.arch}`;

/** Plans every part asked for; never throws for something missing, it becomes a problem. */
export async function planPack(deps: PackDeps, contents: PackContents): Promise<PackBlueprint> {
  const problems: string[] = [];
  const parts: PlannedPart[] = [];
  const collect = async (plan: () => Promise<PlannedPart[]>) => {
    try {
      parts.push(...(await plan()));
    } catch (error) {
      if (!(error instanceof MakerdeckError) || error.code === 'INTERNAL') throw error;
      problems.push(error.message);
    }
  };
  await collect(() => planArduinoCli(deps, contents.cliTargets ?? [THIS_TARGET as CliTarget], problems));
  await collect(() => planCores(deps.cli, contents.cores ?? [], problems));
  await collect(() => planLibraries(deps.cli, contents.libraries ?? [], problems));
  await collect(() => planBuilds(deps.buildCacheDir, contents.builds ?? [], problems));
  if (contents.stack) await collect(() => planImages(deps, contents.stack!, problems));
  await collect(() => planProfiles(deps, contents.profiles ?? [], contents.passphrase, problems));
  return { parts, problems };
}

/** The plan as the contract shows it: each part's size (an upper bound where it will be compressed). */
export function planView(blueprint: PackBlueprint): PackPlan {
  const parts = blueprint.parts.map(({ members, ...part }) => ({
    ...part,
    bytes: members.reduce((sum, m) => sum + m.bytes, 0),
    files: members.length,
  }));
  return { parts, bytes: parts.reduce((sum, p) => sum + p.bytes, 0), problems: blueprint.problems };
}

async function planArduinoCli(deps: PackDeps, targets: CliTarget[], problems: string[]): Promise<PlannedPart[]> {
  const parts: PlannedPart[] = [];
  const built = await readBuildInfo(deps.resourcesDir);
  for (const target of new Set(targets)) {
    const exe = target.startsWith('win32') ? 'arduino-cli.exe' : 'arduino-cli';
    let binary = path.join(deps.resourcesDir, 'arduino-cli', target, exe);
    let version = built.version;
    if (target === THIS_TARGET) ({ path: binary, version } = await deps.cli.binary());
    const size = await stat(binary).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) {
      problems.push(
        `There is no arduino-cli for ${target} in ${path.dirname(binary)}: build them (npm run dist) or leave out that target`,
      );
      continue;
    }
    const member = `arduino-cli/${target}/${exe}.gz`;
    parts.push({
      id: `arduino-cli/${target}`,
      kind: 'arduino-cli',
      title: `arduino-cli for ${target}`,
      version,
      installedBytes: size,
      members: [gzipMember(member, size, binary)],
    });
  }
  return parts;
}

const BuildInfo = z.object({ version: z.string().max(40).optional() });

/** resources/arduino-cli/build.json (written when the package's binaries are built), if any. */
async function readBuildInfo(resourcesDir: string): Promise<z.infer<typeof BuildInfo>> {
  try {
    const parsed = BuildInfo.safeParse(
      JSON.parse(await readFile(path.join(resourcesDir, 'arduino-cli', 'build.json'), 'utf8')),
    );
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

async function planLibraries(cli: PackCli, names: string[], problems: string[]): Promise<PlannedPart[]> {
  if (names.length === 0) return [];
  const installed = await cli.installedLibraries();
  const parts: PlannedPart[] = [];
  for (const name of names) {
    const library = installed.find((l) => l.name === name);
    if (!library || /[/\\]|^\.\.?$/.test(name)) {
      problems.push(`The library "${name}" is not installed: install it first (arduino-cli lib install "${name}")`);
      continue;
    }
    const size = await folderSize(library.dir);
    const tarball = () => Readable.from(tarFolder(library.dir));
    parts.push({
      id: `library/${name}`,
      kind: 'library',
      title: name,
      version: library.version,
      installedBytes: size,
      members: [
        {
          path: `libraries/${name}.tar.gz`,
          bytes: size,
          estimated: true,
          source: async () => ({ path: `libraries/${name}.tar.gz`, stream: tarball }),
        },
      ],
    });
  }
  return parts;
}

/** The folder as a .tar.gz (the system's tar, as offline folders are read), its top folder kept; fails on tar's failure. */
async function* tarFolder(dir: string): AsyncGenerator<Buffer> {
  const child = spawn('tar', ['-cz', '-C', path.dirname(dir), path.basename(dir)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | Error>((resolve) => {
    child.once('close', (code) => resolve(code ?? 1));
    child.once('error', resolve);
  });
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await exited;
  if (code instanceof Error) throw new MakerdeckError('UNAVAILABLE', `tar did not run: ${code.message}`);
  if (code !== 0)
    throw new MakerdeckError(
      'UNAVAILABLE',
      `tar could not pack ${dir}: ${stderr.split('\n')[0] || `exit code ${code}`}`,
    );
}

async function planBuilds(cacheDir: string, wanted: 'all' | string[], problems: string[]): Promise<PlannedPart[]> {
  if (wanted !== 'all' && wanted.length === 0) return [];
  const dir = path.join(cacheDir, 'images');
  const keys = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
    .map((n) => n.slice(0, -5))
    .sort();
  const chosen = wanted === 'all' ? keys : [];
  if (wanted !== 'all')
    for (const hash of new Set(wanted)) {
      const key = keys.find((k) => k.startsWith(hash));
      if (key) chosen.push(key);
      else problems.push(`No cached build ${hash}: compile the firmware for it first (makerdeck compile)`);
    }
  const parts: PlannedPart[] = [];
  for (const key of chosen) {
    const build = await readCachedBuild(cacheDir, key);
    if (!build) {
      problems.push(`The cached build ${key.slice(0, 16)} is damaged: compile it again (makerdeck compile)`);
      continue;
    }
    const files = [`${key}.${build.image.format}`, `${key}.json`];
    const members: PlannedMember[] = [];
    for (const name of files) {
      const file = path.join(dir, name);
      members.push({
        path: `builds/${name}`,
        bytes: (await stat(file)).size,
        source: async () => ({ path: `builds/${name}`, file }),
      });
    }
    parts.push({
      id: `build/${build.buildHash}`,
      kind: 'build',
      title: `Firmware for ${build.fqbn}`,
      // The board core's version it was built with, so the plan's Version column says what it needs.
      ...(build.coreVersion && { version: build.coreVersion }),
      installedBytes: build.image.data.length,
      members,
    });
  }
  return parts;
}

async function planImages(deps: PackDeps, profile: StackProfile, problems: string[]): Promise<PlannedPart[]> {
  if (!deps.images) {
    problems.push('The stack’s images cannot be carried from here: create the pack with the desktop app or the CLI');
    return [];
  }
  const images = deps.images;
  const { bytes, missing } = await images.sizes(profile);
  if (missing.length) {
    problems.push(
      `These images are not on this computer: ${missing.join(', ')} — start the stack (${profile}) once while online first`,
    );
    return [];
  }
  const member = `images/stack-${profile}.tar.gz`;
  return [
    {
      id: `images/${profile}`,
      kind: 'images',
      title: `Stack images (${profile})`,
      installedBytes: bytes,
      members: [
        {
          path: member,
          bytes,
          estimated: true,
          source: async ({ scratch }) => {
            const saved = scratch(`stack-${profile}.tar`);
            await images.save(profile, saved);
            // The uncompressed save goes once it is read.
            return { path: member, stream: () => gzipOf(saved, () => void rm(saved, { force: true })) };
          },
        },
      ],
    },
  ];
}

async function planProfiles(
  deps: PackDeps,
  refs: string[],
  passphrase: string | undefined,
  problems: string[],
): Promise<PlannedPart[]> {
  if (refs.length === 0) return [];
  if (!passphrase) {
    problems.push('Profiles are carried encrypted: give a passphrase (it is asked for, never put on the command line)');
    return [];
  }
  const members: PlannedMember[] = [];
  for (const ref of new Set(refs)) {
    const id = await deps.profiles.idOf(ref);
    if (!id) {
      problems.push(`No profile "${ref}": makerdeck profile list shows them`);
      continue;
    }
    const text = await deps.profiles.exportEncrypted(ref, passphrase);
    const member = `profiles/${id}.json`;
    if (!members.some((m) => m.path === member))
      members.push({ path: member, bytes: Buffer.byteLength(text), source: async () => ({ path: member, text }) });
  }
  return members.length
    ? [{ id: 'profiles', kind: 'profiles', title: `${members.length} profile(s), encrypted`, members }]
    : [];
}

/** A file carried gzip-compressed; its planned size is the file's, an upper bound. */
function gzipMember(member: string, size: number, file: string): PlannedMember {
  return {
    path: member,
    bytes: size,
    estimated: true,
    source: async () => ({ path: member, stream: () => gzipOf(file) }),
  };
}

/** A file's bytes gzip-compressed; a read error fails the compressed stream too. */
function gzipOf(file: string, onClose?: () => void): Readable {
  const gzip = createGzip();
  const input = createReadStream(file).once('error', (error) => gzip.destroy(error));
  if (onClose) input.once('close', onClose);
  return input.pipe(gzip);
}
