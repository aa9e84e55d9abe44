// A board package carried to a machine without internet: a folder (or a .tar.gz/.tgz/.tar of one)
// holding package_<name>_index.json and the archives its platforms and tools name. arduino-cli 1.0.4
// reads a file:// index in place and skips the download of an archive already in its downloads
// folder whose size and checksum match the index, so that is all an offline install needs.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { MakerdeckError } from '../../contract';

const Resource = z.object({
  archiveFileName: z.string().regex(/^[^/\\]+$/),
  checksum: z.string(),
  size: z.union([z.string(), z.number()]),
});
const Index = z.object({
  packages: z.array(
    z.object({
      name: z.string(),
      platforms: z.array(Resource.extend({ architecture: z.string(), version: z.string() })).default([]),
      tools: z
        .array(z.object({ name: z.string(), version: z.string(), systems: z.array(Resource).default([]) }))
        .default([]),
    }),
  ),
});
export type PackageIndex = z.infer<typeof Index>;

export interface OfflineArchive {
  name: string;
  file: string;
  size: number;
  checksum: string;
}

export interface OfflineFolder {
  dir: string;
  indexes: Array<{ name: string; file: string; index: PackageIndex }>;
  /** The archives the indexes name that are in the folder. */
  archives: OfflineArchive[];
  /** Every core the indexes offer, newest version of each, as packager:arch@version. */
  cores: string[];
  /** Removes what an archive was extracted to. */
  close(): Promise<void>;
}

const INDEX_FILE = /^package_[\w.-]+_index\.json$/;
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

/** Opens a folder or archive; throws one line naming what is missing. */
export async function openOfflineFolder(source: string, signal?: AbortSignal): Promise<OfflineFolder> {
  const info = await stat(source).catch(() => {
    throw new MakerdeckError('NOT_FOUND', `${source} does not exist: name a folder or a .tar.gz with a board index`);
  });
  let extracted: string | undefined;
  let dir = source;
  if (!info.isDirectory()) {
    if (!/\.(tar\.gz|tgz|tar)$/i.test(source))
      throw new MakerdeckError('BAD_INPUT', `${source} is not a folder nor a .tar.gz/.tgz/.tar: unpack it first`);
    extracted = await mkdtemp(path.join(os.tmpdir(), 'makerdeck-cores-'));
    dir = await untar(source, extracted, signal).catch(async (error) => {
      await rm(extracted!, { recursive: true, force: true });
      throw error;
    });
  }
  try {
    const folder = await readFolder(dir);
    return {
      ...folder,
      close: () => (extracted ? rm(extracted, { recursive: true, force: true }) : Promise.resolve()),
    };
  } catch (error) {
    if (extracted) await rm(extracted, { recursive: true, force: true });
    throw error;
  }
}

/** Extracts with the system's tar (GNU tar and bsdtar refuse absolute and ../ members). */
function untar(archive: string, into: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tar', ['-xf', archive, '-C', into], { signal, windowsHide: true }, async (error, _stdout, stderr) => {
      if (signal?.aborted) return reject(new MakerdeckError('CANCELLED', 'Cancelled while unpacking'));
      if (error)
        return reject(
          new MakerdeckError(
            'BAD_INPUT',
            `${archive} could not be unpacked: ${(stderr || error.message).split('\n')[0]}`,
          ),
        );
      // The index may sit at the top or in the one folder the archive holds.
      const entries = await readdir(into, { withFileTypes: true });
      const only = entries.length === 1 && entries[0]!.isDirectory() ? path.join(into, entries[0]!.name) : into;
      resolve(only);
    });
  });
}

async function readFolder(dir: string): Promise<Omit<OfflineFolder, 'close'>> {
  const names = await readdir(dir);
  const indexNames = names.filter((name) => INDEX_FILE.test(name));
  if (indexNames.length === 0)
    throw new MakerdeckError(
      'BAD_INPUT',
      `${dir} holds no package_<name>_index.json: copy the board index next to its archives`,
    );
  const indexes = [];
  for (const name of indexNames) indexes.push({ name, file: path.join(dir, name), index: await readIndex(dir, name) });
  const archives: OfflineArchive[] = [];
  for (const resource of indexes.flatMap(({ index }) => resources(index))) {
    if (!names.includes(resource.archiveFileName) || archives.some((a) => a.name === resource.archiveFileName))
      continue;
    archives.push({
      name: resource.archiveFileName,
      file: path.join(dir, resource.archiveFileName),
      size: Number(resource.size),
      checksum: resource.checksum,
    });
  }
  return { dir, indexes, archives, cores: indexes.flatMap(({ index }) => newestCores(index)) };
}

async function readIndex(dir: string, name: string): Promise<PackageIndex> {
  const file = path.join(dir, name);
  if ((await stat(file)).size > MAX_INDEX_BYTES)
    throw new MakerdeckError('BAD_INPUT', `${file} is larger than 64 MiB: that is no board index`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new MakerdeckError('BAD_INPUT', `${file} is not JSON: copy the board index again`);
  }
  const parsed = Index.safeParse(json);
  if (!parsed.success)
    throw new MakerdeckError(
      'BAD_INPUT',
      `${file} is not a board index (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`,
    );
  return parsed.data;
}

function resources(index: PackageIndex): Array<z.infer<typeof Resource>> {
  return index.packages.flatMap((p) => [...p.platforms, ...p.tools.flatMap((t) => t.systems)]);
}

/** Each packager:architecture once, at its highest version (numeric parts compared). */
function newestCores(index: PackageIndex): string[] {
  const newest = new Map<string, string>();
  for (const p of index.packages)
    for (const platform of p.platforms) {
      const id = `${p.name}:${platform.architecture}`;
      const have = newest.get(id);
      if (!have || compareVersions(platform.version, have) > 0) newest.set(id, platform.version);
    }
  return [...newest].map(([id, version]) => `${id}@${version}`);
}

/** Compares dotted versions part by part, numerically where both parts are numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const diff = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (diff) return Math.sign(diff);
  }
  return 0;
}

/** Checks an archive's size and checksum (SHA-256, SHA-1 or MD5 as the index says) against the index. */
export async function verifyArchive(archive: OfflineArchive, signal?: AbortSignal): Promise<void> {
  const [algorithm, expected] = archive.checksum.split(':');
  const name = { 'SHA-256': 'sha256', 'SHA-1': 'sha1', MD5: 'md5' }[algorithm ?? ''];
  if (!name || !expected)
    throw new MakerdeckError(
      'BAD_INPUT',
      `${archive.name}: the index gives no usable checksum ("${archive.checksum}")`,
    );
  const { size } = await stat(archive.file);
  if (size !== archive.size)
    throw new MakerdeckError(
      'BAD_INPUT',
      `${archive.file} has ${size} bytes, its index says ${archive.size}: copy it again from the original folder`,
    );
  const hash = createHash(name);
  for await (const chunk of createReadStream(archive.file, { signal })) hash.update(chunk as Buffer);
  if (hash.digest('hex') !== expected.toLowerCase())
    throw new MakerdeckError(
      'BAD_INPUT',
      `${archive.file} does not match its ${algorithm} checksum in the index: copy it again from the original folder`,
    );
}
