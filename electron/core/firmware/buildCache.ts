// Compiled images, kept by what made them: the firmware sources, the FQBN, the board core's version
// and arduino-cli's version. A build holds no secret (the config is stamped at flash time), so an
// image can be kept on disk and reused for every board and every profile change.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { MakerdeckError, MAX_FIRMWARE_BYTES, type CachedBuildView } from '../../contract';

/** Source files arduino-cli compiles from the sketch folder (config.h of older versions excluded). */
export const SOURCE_FILES = /\.(ino|h|hpp|c|cpp|S)$/;

export interface BuildKeyParts {
  fqbn: string;
  coreVersion: string;
  cliVersion: string;
}

export interface CachedBuild {
  key: string;
  /** The first 16 hex digits of the key: what the firmware prints at boot. */
  buildHash: string;
  fqbn: string;
  sizes: Array<{ name: string; size: number; max: number }>;
  image: { format: 'hex' | 'bin'; data: Buffer };
  /** What made it, kept in the record (older records have none). */
  coreVersion?: string;
  cliVersion?: string;
  /** When it was built (ISO 8601); default: now. A pack's import keeps the original time. */
  builtAt?: string;
}

/** A build's record (`images/<key>.json`), written after its image; a pack carries it as is. */
export const BuildRecord = z.object({
  fqbn: z.string().min(1).max(200),
  sizes: z.array(z.object({ name: z.string(), size: z.number(), max: z.number() })).max(20),
  format: z.enum(['hex', 'bin']),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  coreVersion: z.string().min(1).max(100).optional(),
  cliVersion: z.string().min(1).max(100).optional(),
  builtAt: z.iso.datetime().optional(),
});
export type BuildRecord = z.infer<typeof BuildRecord>;

/** The sketch's source files, sorted, excluding config.h (an older Makerdeck's) . */
export async function sketchSources(sketchDir: string): Promise<string[]> {
  return (await readdir(sketchDir))
    .filter((name) => SOURCE_FILES.test(name) && name !== 'config.h' && name !== 'config.example.h')
    .sort();
}

/** SHA-256 over every source file (name, length, bytes) and the key's other parts, hex. */
export async function buildKey(sketchDir: string, parts: BuildKeyParts): Promise<string> {
  const hash = createHash('sha256').update('makerdeck-build-1\0');
  for (const name of await sketchSources(sketchDir)) {
    const bytes = await readFile(path.join(sketchDir, name));
    hash.update(`${name}\0${bytes.length}\0`).update(bytes);
  }
  return hash.update(`\0fqbn=${parts.fqbn}\0core=${parts.coreVersion}\0cli=${parts.cliVersion}`).digest('hex');
}

const imagesDir = (cacheDir: string) => path.join(cacheDir, 'images');

/** The file a cached build's image is kept in. */
export function cachedImagePath(cacheDir: string, key: string, format: 'hex' | 'bin'): string {
  return path.join(imagesDir(cacheDir), `${key}.${format}`);
}

/** The cached build for `key`, or undefined (missing, or its image no longer matches its record). */
export async function readCachedBuild(cacheDir: string, key: string): Promise<CachedBuild | undefined> {
  const found = await readChecked(cacheDir, key);
  if (!found) return undefined;
  const { record, data } = found;
  return {
    key,
    buildHash: key.slice(0, 16),
    fqbn: record.fqbn,
    sizes: record.sizes,
    image: { format: record.format, data },
    ...(record.coreVersion && { coreVersion: record.coreVersion }),
    ...(record.cliVersion && { cliVersion: record.cliVersion }),
  };
}

/** A build's record and image, or undefined when either is missing, unreadable or they disagree. */
async function readChecked(cacheDir: string, key: string) {
  try {
    const recordFile = path.join(imagesDir(cacheDir), `${key}.json`);
    const parsed = BuildRecord.safeParse(JSON.parse(await readFile(recordFile, 'utf8')));
    if (!parsed.success) return undefined;
    const record = parsed.data;
    const imageFile = cachedImagePath(cacheDir, key, record.format);
    if ((await stat(imageFile)).size > MAX_FIRMWARE_BYTES) return undefined;
    const data = await readFile(imageFile);
    if (createHash('sha256').update(data).digest('hex') !== record.sha256) return undefined;
    return { record, data, recordFile };
  } catch {
    return undefined;
  }
}

/**
 * Every whole build in the cache, newest first. A damaged build (record unreadable, image missing or
 * not matching) is left out, as readCachedBuild would miss it; a missing cache is none.
 */
export async function listCachedBuilds(cacheDir: string): Promise<CachedBuildView[]> {
  const names = await readdir(imagesDir(cacheDir)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [] as string[];
    throw new MakerdeckError(
      'UNAVAILABLE',
      `The build cache ${cacheDir} cannot be read (${error.code ?? error.message})`,
    );
  });
  const builds: CachedBuildView[] = [];
  for (const key of names.filter((n) => /^[0-9a-f]{64}\.json$/.test(n)).map((n) => n.slice(0, -5))) {
    const found = await readChecked(cacheDir, key);
    if (found) builds.push(await describeBuild(key, found));
  }
  return builds.sort((a, b) => b.builtAt.localeCompare(a.builtAt) || a.key.localeCompare(b.key));
}

async function describeBuild(
  key: string,
  { record, data, recordFile }: { record: BuildRecord; data: Buffer; recordFile: string },
): Promise<CachedBuildView> {
  const builtAt = record.builtAt ?? (await stat(recordFile).catch(() => undefined))?.mtime.toISOString();
  return {
    buildHash: key.slice(0, 16),
    key,
    fqbn: record.fqbn,
    ...(record.coreVersion && { coreVersion: record.coreVersion }),
    ...(record.cliVersion && { cliVersion: record.cliVersion }),
    format: record.format,
    bytes: data.length,
    builtAt: new Date(builtAt ?? 0).toISOString(),
  };
}

/** Keeps a build: the image first, then its record (written last, so a record means a whole image). */
export async function writeCachedBuild(cacheDir: string, build: CachedBuild): Promise<void> {
  const dir = imagesDir(cacheDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const record: BuildRecord = {
    fqbn: build.fqbn,
    sizes: build.sizes,
    format: build.image.format,
    sha256: createHash('sha256').update(build.image.data).digest('hex'),
    ...(build.coreVersion && { coreVersion: build.coreVersion }),
    ...(build.cliVersion && { cliVersion: build.cliVersion }),
    builtAt: build.builtAt ?? new Date().toISOString(),
  };
  await atomicWrite(cachedImagePath(cacheDir, build.key, build.image.format), build.image.data);
  await atomicWrite(path.join(dir, `${build.key}.json`), JSON.stringify(record));
}

async function atomicWrite(file: string, data: string | Buffer): Promise<void> {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, data, { mode: 0o600 });
  await rename(temporary, file);
}
