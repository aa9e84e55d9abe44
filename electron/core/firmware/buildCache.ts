// Compiled images, kept by what made them: the firmware sources, the FQBN, the board core's version
// and arduino-cli's version. A build holds no secret (the config is stamped at flash time), so an
// image can be kept on disk and reused for every board and every profile change.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

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
}

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
  try {
    const record = JSON.parse(await readFile(path.join(imagesDir(cacheDir), `${key}.json`), 'utf8')) as BuildRecord & {
      sha256: string;
    };
    const data = await readFile(cachedImagePath(cacheDir, key, record.format));
    if (createHash('sha256').update(data).digest('hex') !== record.sha256) return undefined;
    return {
      key,
      buildHash: key.slice(0, 16),
      fqbn: record.fqbn,
      sizes: record.sizes,
      image: { format: record.format, data },
    };
  } catch {
    return undefined;
  }
}

type BuildRecord = Pick<CachedBuild, 'fqbn' | 'sizes'> & { format: 'hex' | 'bin' };

/** Keeps a build: the image first, then its record (written last, so a record means a whole image). */
export async function writeCachedBuild(cacheDir: string, build: CachedBuild): Promise<void> {
  const dir = imagesDir(cacheDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const record = {
    fqbn: build.fqbn,
    sizes: build.sizes,
    format: build.image.format,
    sha256: createHash('sha256').update(build.image.data).digest('hex'),
  };
  await atomicWrite(cachedImagePath(cacheDir, build.key, build.image.format), build.image.data);
  await atomicWrite(path.join(dir, `${build.key}.json`), JSON.stringify(record));
}

async function atomicWrite(file: string, data: string | Buffer): Promise<void> {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, data, { mode: 0o600 });
  await rename(temporary, file);
}
