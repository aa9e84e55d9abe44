// The install steps of a pack import, each given the extracted members and each idempotent: run
// again, a step finds its work done and says `already` (a kill between a step's work and its record
// in import.json is therefore harmless).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { MakerdeckError, type PackPart } from '../../contract';
import { BuildRecord, readCachedBuild, writeCachedBuild } from '../firmware/buildCache';
import { arduinoCliHome, dataFolderArduinoCliPath, writeArduinoCliConfig } from '../firmware/arduinoCliHome';
import { jsonOrUndefined } from '../jsonOrUndefined';
import { pathExists } from '../pathExists';
import { ByteTally, hashFile } from './byteTally';

export interface StepOutcome {
  result: 'done' | 'already';
  detail?: string;
}

export interface StepContext {
  dataDir: string;
  /** The extracted file of a member. */
  fileOf(member: string): string;
  signal: AbortSignal;
}

/** A board index inside a pack (listed with the first core part of its packager). */
export const INDEX_MEMBER = /^boards\/(package_[\w.-]+_index\.json)$/;

/** arduino-cli for this machine: the pack's gzip-compressed binary into `<home>/bin/<target>/`, executable. */
export async function installArduinoCli(part: PackPart, context: StepContext): Promise<StepOutcome> {
  const target = part.id.slice('arduino-cli/'.length);
  const member = part.files.find((f) => f.path.endsWith('.gz'));
  if (!member) throw new MakerdeckError('BAD_INPUT', `The pack's ${part.id} holds no .gz binary: make the pack again`);
  const destination = dataFolderArduinoCliPath(context.dataDir, target);
  await mkdir(path.dirname(destination), { recursive: true, mode: 0o755 });
  const partial = `${destination}.${randomBytes(4).toString('hex')}.partial`;
  const tally = new ByteTally();
  try {
    await pipeline(
      createReadStream(context.fileOf(member.path)),
      createGunzip(),
      tally.through,
      createWriteStream(partial, { mode: 0o755 }),
      { signal: context.signal },
    );
    const fresh = tally.result().sha256;
    if ((await sha256Of(destination)) === fresh) {
      await rm(partial, { force: true });
      return { result: 'already', detail: destination };
    }
    await chmod(partial, 0o755);
    await rename(partial, destination);
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof MakerdeckError || context.signal.aborted) throw error;
    throw new MakerdeckError('BAD_INPUT', `The pack's arduino-cli could not be unpacked (${(error as Error).message})`);
  }
  return { result: 'done', detail: destination };
}

/**
 * The data folder's arduino-cli configuration: the pack's board indexes kept in `<home>/data/
 * makerdeck-indexes/` and listed as file:// URLs, empty default indexes where there are none (so
 * arduino-cli does not reach for the network on its first run), and the libraries folder.
 */
export async function installConfig(parts: PackPart[], context: StepContext): Promise<StepOutcome> {
  const home = arduinoCliHome(context.dataDir);
  const names: string[] = [];
  let changed = false;
  await mkdir(home.indexes, { recursive: true });
  for (const file of parts.flatMap((p) => p.files)) {
    const name = INDEX_MEMBER.exec(file.path)?.[1];
    if (!name) continue;
    names.push(name);
    const kept = path.join(home.indexes, name);
    if ((await sha256Of(kept)) !== file.sha256) {
      await copyFile(context.fileOf(file.path), kept);
      changed = true;
    }
  }
  for (const [name, empty] of [
    ['package_index.json', '{"packages":[]}\n'],
    ['library_index.json', '{"libraries":[]}\n'],
  ] as const)
    await writeFile(path.join(home.data, name), empty, { flag: 'wx' }).then(
      () => (changed = true),
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
  await mkdir(path.join(home.user, 'libraries'), { recursive: true });
  if (await writeArduinoCliConfig(home, names)) changed = true;
  return { result: changed ? 'done' : 'already', detail: home.configFile };
}

/** A library's folder from its `.tar.gz` into `<home>/user/libraries/<name>/`; one already there is kept. */
export async function installLibrary(part: PackPart, context: StepContext): Promise<StepOutcome> {
  const name = part.id.slice('library/'.length);
  if (!/^[\w][\w .+-]{0,199}$/.test(name))
    throw new MakerdeckError('BAD_INPUT', `The pack names a library "${name}" that is no folder name: make it again`);
  const member = part.files[0];
  if (!member) throw new MakerdeckError('BAD_INPUT', `The pack's ${part.id} holds no file: make the pack again`);
  const libraries = path.join(arduinoCliHome(context.dataDir).user, 'libraries');
  const destination = path.join(libraries, name);
  if (await pathExists(destination)) return { result: 'already', detail: destination };
  const temporary = path.join(libraries, `.${name}.${randomBytes(4).toString('hex')}.partial`);
  await mkdir(temporary, { recursive: true });
  try {
    await untarGz(context.fileOf(member.path), temporary, context.signal);
    // The archive holds the library's folder, or its contents.
    const entries = await readdir(temporary, { withFileTypes: true });
    const only = entries.length === 1 && entries[0]!.isDirectory() ? path.join(temporary, entries[0]!.name) : undefined;
    await rename(only ?? temporary, destination);
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return { result: 'done', detail: destination };
}

/** A firmware build (`builds/<key>.<hex|bin>` + its record) into the build cache, checked against its record. */
export async function installBuild(
  part: PackPart,
  context: StepContext & { buildCacheDir: string },
): Promise<StepOutcome> {
  const recordFile = part.files.find((f) => /^builds\/[0-9a-f]{64}\.json$/.test(f.path));
  const key = recordFile?.path.slice('builds/'.length, -'.json'.length);
  if (!recordFile || !key)
    throw new MakerdeckError('BAD_INPUT', `The pack's ${part.id} holds no build record: make the pack again`);
  if (await readCachedBuild(context.buildCacheDir, key)) return { result: 'already', detail: key.slice(0, 16) };
  const parsed = BuildRecord.safeParse(jsonOrUndefined(await readFile(context.fileOf(recordFile.path), 'utf8')));
  if (!parsed.success) throw new MakerdeckError('BAD_INPUT', `The pack's ${recordFile.path} is no build record`);
  const record = parsed.data;
  const imageMember = part.files.find((f) => f.path === `builds/${key}.${record.format}`);
  if (!imageMember) throw new MakerdeckError('BAD_INPUT', `The pack's ${part.id} holds no image for its record`);
  const data = await readFile(context.fileOf(imageMember.path));
  if (createHash('sha256').update(data).digest('hex') !== record.sha256)
    throw new MakerdeckError('BAD_INPUT', `The pack's build ${key.slice(0, 16)} does not match its own record`);
  const image = { format: record.format, data };
  // The versions and build time travel with it, so firmware.builds on this machine says the same.
  const { coreVersion, cliVersion, builtAt } = record;
  await writeCachedBuild(context.buildCacheDir, {
    key,
    buildHash: key.slice(0, 16),
    fqbn: record.fqbn,
    sizes: record.sizes,
    image,
    coreVersion,
    cliVersion,
    builtAt,
  });
  return { result: 'done', detail: `${record.fqbn} ${key.slice(0, 16)}` };
}

/** What the profiles step needs of the profiles service. */
export interface ProfileImporter {
  list(): Promise<Array<{ id: string; name: string }>>;
  import(content: string, passphrase?: string): Promise<{ id: string; name: string }>;
}

/** Each `profiles/<id>.json` into the keychain with the passphrase; one whose id or name exists is `already`. */
export async function installProfiles(
  part: PackPart,
  context: StepContext & { profiles: ProfileImporter; passphrase?: string },
): Promise<StepOutcome> {
  const imported: string[] = [];
  const kept: string[] = [];
  for (const file of part.files) {
    const id = path.posix.basename(file.path, '.json');
    const content = await readFile(context.fileOf(file.path), 'utf8');
    const name = (jsonOrUndefined(content) as { profile?: { name?: unknown } } | undefined)?.profile?.name;
    const existing = (await context.profiles.list()).find((p) => p.id === id || p.name === name);
    if (existing) {
      kept.push(existing.id);
      continue;
    }
    imported.push((await context.profiles.import(content, context.passphrase)).id);
  }
  const detail = [
    imported.length ? `imported ${imported.join(', ')}` : '',
    kept.length ? `already there: ${kept.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return { result: imported.length ? 'done' : 'already', detail };
}

/** Extracts with the system's tar (GNU tar and bsdtar refuse absolute and ../ members), as offlineFolder.ts does. */
function untarGz(archive: string, into: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'tar',
      ['-xzf', archive, '-C', into, '--no-same-owner'],
      { signal, windowsHide: true },
      (error, _stdout, stderr) => {
        if (signal.aborted) return reject(new MakerdeckError('CANCELLED', 'Cancelled while unpacking a library'));
        if (error)
          return reject(
            new MakerdeckError(
              'BAD_INPUT',
              `${path.basename(archive)} could not be unpacked: ${(stderr || error.message).split('\n')[0]}`,
            ),
          );
        resolve();
      },
    );
  });
}

/** A file's SHA-256, or undefined when there is none. */
function sha256Of(file: string): Promise<string | undefined> {
  return hashFile(file).then(
    ({ sha256 }) => sha256,
    () => undefined,
  );
}
