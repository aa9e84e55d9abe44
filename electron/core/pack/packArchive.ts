// The lab pack container: an uncompressed tar (tar-stream) whose first member is manifest.json and
// whose every other member is listed there with its size and SHA-256. Writing stages streamed members
// first (a tar header needs the size up front), then writes manifest + members into <file>.partial,
// checking each member again as it goes in, and renames. Reading refuses anything the manifest does
// not vouch for: unknown, missing, resized or altered members, links, absolute or `..` paths.
import { createHash } from 'node:crypto';
import { constants, createReadStream, createWriteStream, type Stats } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { MakerdeckError, type PackFileEntry, type PackManifest } from '../../contract';
import { pathExists } from '../pathExists';
import { syncDir } from '../settings/writeAtomic';
import { ByteTally, hashFile } from './byteTally';
import {
  MANIFEST_NAME,
  MAX_MANIFEST_BYTES,
  MAX_MEMBER_BYTES,
  manifestMembers,
  parseManifest,
  unsafeMemberPath,
} from './packManifest';

/** A member's content: a file stored as it is, or what a stream makes (e.g. gzip output), staged first. */
export type MemberSource =
  { path: string; file: string } | { path: string; stream: () => Readable | Promise<Readable> };

export interface WriteOptions {
  signal?: AbortSignal;
  /** Called with the bytes done so far in this step. */
  onBytes?: (bytes: number) => void;
}

/** Writes one pack: `add` every member, then `finish` with the manifest listing them; `abort` on failure. */
export class PackWriter {
  private readonly members = new Map<string, { file: string; entry: PackFileEntry }>();
  private staged = 0;

  private constructor(
    /** The pack being written. */
    readonly file: string,
    private readonly partial: string,
    private readonly staging: string,
  ) {}

  /** Starts a pack at `file`; refused when it exists unless `overwrite`, or when its folder is missing. */
  static async open(file: string, { overwrite = false } = {}): Promise<PackWriter> {
    const target = path.resolve(file);
    if (!overwrite && (await pathExists(target)))
      throw new MakerdeckError('BAD_INPUT', `${target} exists: choose another file name, or overwrite it`);
    const dir = await stat(path.dirname(target)).catch(() => undefined);
    if (!dir?.isDirectory())
      throw new MakerdeckError('NOT_FOUND', `${path.dirname(target)} is no folder: create it or choose another place`);
    const writer = new PackWriter(target, `${target}.partial`, `${target}.partial.d`);
    await writer.abort(); // what an earlier, killed run left
    await mkdir(writer.staging, { mode: 0o700 });
    return writer;
  }

  /** Adds a member: hashes a file in place, or stages a stream's bytes; returns its manifest entry. */
  async add(source: MemberSource, options: WriteOptions = {}): Promise<PackFileEntry> {
    const why = unsafeMemberPath(source.path);
    if (why) throw new MakerdeckError('INTERNAL', `pack member path ${JSON.stringify(source.path)} ${why}`);
    if (this.members.has(source.path))
      throw new MakerdeckError('INTERNAL', `pack member ${source.path} is added twice`);
    let file: string;
    let entry: PackFileEntry;
    if ('file' in source) {
      file = source.file;
      entry = { path: source.path, ...(await hashFile(file, options)) };
    } else {
      file = path.join(this.staging, String(this.staged++));
      const tally = new ByteTally(options.onBytes);
      await pipeline(await source.stream(), tally.through, createWriteStream(file, { mode: 0o600 }), {
        signal: options.signal,
      });
      entry = { path: source.path, ...tally.result() };
    }
    if (entry.bytes > MAX_MEMBER_BYTES)
      throw new MakerdeckError('BAD_INPUT', `${source.path} is larger than 8 GiB, more than a pack member can hold`);
    this.members.set(source.path, { file, entry });
    return entry;
  }

  /**
   * Writes manifest then members to `<file>.partial`, checking every member's bytes again on the way
   * in, then renames it to the file. Returns the pack's size and SHA-256.
   */
  async finish(manifest: PackManifest, options: WriteOptions = {}): Promise<{ bytes: number; sha256: string }> {
    parseManifest(manifest, 'the new pack');
    const listed = manifestMembers(manifest);
    for (const [member, { entry }] of this.members) {
      const want = listed.get(member);
      if (!want || want.bytes !== entry.bytes || want.sha256 !== entry.sha256)
        throw new MakerdeckError('INTERNAL', `pack member ${member} does not match the manifest`);
    }
    if (listed.size !== this.members.size)
      throw new MakerdeckError('INTERNAL', 'the manifest lists a member that was not added');
    const pack = tar.pack();
    const tally = new ByteTally(options.onBytes);
    const written = pipeline(pack, tally.through, createWriteStream(this.partial, { mode: 0o644 }));
    try {
      const mtime = new Date(manifest.createdAt);
      await addEntry(pack, { name: MANIFEST_NAME, size: 0, mtime }, Buffer.from(JSON.stringify(manifest, null, 2)));
      for (const part of manifest.parts)
        for (const member of part.files) await this.writeMember(pack, member, mtime, options.signal);
      pack.finalize();
      await written;
    } catch (error) {
      pack.destroy(error as Error);
      await written.catch(() => undefined);
      throw error;
    }
    const handle = await open(this.partial, 'r');
    await handle.sync().finally(() => handle.close());
    await rename(this.partial, this.file);
    await syncDir(path.dirname(this.file));
    await rm(this.staging, { recursive: true, force: true });
    return tally.result();
  }

  /** A path in the staging folder (removed with it) for a member made in steps, e.g. a file then gzip. */
  scratch(name: string): string {
    return path.join(this.staging, `scratch-${path.basename(name)}`);
  }

  /** Removes the partial file and the staged members. */
  async abort(): Promise<void> {
    await rm(this.partial, { force: true });
    await rm(this.staging, { recursive: true, force: true });
  }

  private async writeMember(pack: tar.Pack, member: PackFileEntry, mtime: Date, signal?: AbortSignal) {
    const { file } = this.members.get(member.path)!;
    const sink = pack.entry({ name: member.path, size: member.bytes, mode: 0o644, mtime, type: 'file' });
    const done = new Promise<void>((resolve, reject) => sink.once('close', resolve).once('error', reject));
    const hash = createHash('sha256');
    let bytes = 0;
    const input = member.bytes > 0 ? createReadStream(file, { signal, end: member.bytes - 1 }) : [];
    for await (const chunk of input as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!sink.write(chunk)) await new Promise((resolve) => sink.once('drain', resolve));
    }
    if (bytes !== member.bytes || hash.digest('hex') !== member.sha256) {
      sink.destroy();
      throw new MakerdeckError('UNAVAILABLE', `${file} changed while the pack was written: create the pack again`);
    }
    sink.end();
    await done;
  }
}

function addEntry(pack: tar.Pack, header: tar.Headers, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    pack.entry({ ...header, size: body.length, mode: 0o644, type: 'file' }, body, (error) =>
      error ? reject(error) : resolve(),
    ),
  );
}

/** One member as the reader hands it out: its stream errors instead of ending when it was altered. */
export interface PackMember {
  path: string;
  /** The id of the part listing it. */
  part: string;
  bytes: number;
  sha256: string;
  stream: Readable;
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** Called with the archive bytes read so far. */
  onBytes?: (bytes: number) => void;
  /** Called once the manifest is read and checked, before any other member. */
  onManifest?: (manifest: PackManifest) => void | Promise<void>;
  /**
   * Called for each member in archive order; read its stream to the end (or not at all: the reader
   * then drains it). The stream fails when the member's bytes do not match the manifest.
   */
  onMember?: (member: PackMember) => void | Promise<void>;
}

/** Reads only the manifest (checked against the schema; members are not checked). */
export async function readPackManifest(file: string, signal?: AbortSignal): Promise<PackManifest> {
  let manifest: PackManifest | undefined;
  const stop = new MakerdeckError('CANCELLED', 'manifest read'); // ends the read early, passed through as is
  await readPack(file, {
    signal,
    onManifest: (read) => {
      manifest = read;
      throw stop;
    },
  }).catch((error) => {
    if (error !== stop) throw error;
  });
  return manifest!;
}

/**
 * Streams a pack once, checking every member against the manifest (listed, once, its size and SHA-256)
 * and that none is missing; throws BAD_INPUT in one line at the first thing wrong. Returns the manifest.
 */
export async function readPack(file: string, options: ReadOptions = {}): Promise<PackManifest> {
  const handle = await openPackFile(file, options.signal);
  const source = handle.createReadStream({ signal: options.signal });
  const extract = tar.extract();
  let read = 0;
  source.on('data', (chunk) => options.onBytes?.((read += chunk.length)));
  source.on('error', (error) => extract.destroy(error));
  source.pipe(extract);
  try {
    return await readEntries(file, extract, options);
  } catch (error) {
    throw asPackError(file, error, options.signal);
  } finally {
    source.destroy();
    extract.destroy();
  }
}

/**
 * Opens the pack for reading. Anything but a regular file (a named pipe, a device such as /dev/zero,
 * a folder) is refused before a byte is read: it could block the open or never end. O_NONBLOCK lets
 * a named pipe without a writer open at once, so that it can be told apart; it changes nothing for a file.
 */
async function openPackFile(file: string, signal?: AbortSignal): Promise<FileHandle> {
  const cannotRead = (error: NodeJS.ErrnoException) => {
    if (signal?.aborted) return new MakerdeckError('CANCELLED', 'Cancelled while reading the pack');
    return new MakerdeckError(
      error.code === 'ENOENT' ? 'NOT_FOUND' : 'UNAVAILABLE',
      `${file} cannot be read (${error.code ?? error.message}): name an existing .mdpack file`,
    );
  };
  if (signal?.aborted) throw new MakerdeckError('CANCELLED', 'Cancelled while reading the pack');
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((error) => {
    throw cannotRead(error as NodeJS.ErrnoException);
  });
  const info = await handle.stat().catch(async (error: NodeJS.ErrnoException) => {
    await handle.close();
    throw cannotRead(error);
  });
  if (info.isFile()) return handle;
  await handle.close();
  throw new MakerdeckError('BAD_INPUT', `${file} is ${fileKind(info)}, not a file: name a .mdpack file`);
}

function fileKind(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  return 'a device';
}

async function readEntries(file: string, extract: tar.Extract, options: ReadOptions): Promise<PackManifest> {
  let manifest: PackManifest | undefined;
  let members = new Map<string, { part: string; bytes: number; sha256: string }>();
  for await (const entry of extract) {
    const { name, type, size } = entry.header;
    if (!manifest) {
      if (name !== MANIFEST_NAME || type !== 'file')
        throw bad(file, `starts with ${JSON.stringify(name)}, not ${MANIFEST_NAME}: it is no Makerdeck pack`);
      manifest = await readManifest(file, entry, size ?? 0);
      members = manifestMembers(manifest);
      await options.onManifest?.(manifest);
      continue;
    }
    const why = type !== 'file' ? `is a ${type ?? 'special'} entry, not a file` : unsafeMemberPath(name);
    if (why) throw bad(file, `member ${JSON.stringify(name)} ${why}: the pack is unsafe, do not use it`);
    const want = members.get(name);
    if (!want) throw bad(file, `holds ${JSON.stringify(name)}, which its manifest does not list (or lists once)`);
    members.delete(name);
    if (size !== want.bytes) throw bad(file, `member ${name} has ${size} bytes, the manifest says ${want.bytes}`);
    await handOut(file, entry, { path: name, ...want }, options);
  }
  if (!manifest) throw bad(file, 'holds no manifest: it is empty or no Makerdeck pack');
  if (members.size > 0) {
    const [first] = members.keys();
    throw bad(file, `lacks ${members.size} member(s) its manifest lists (first: ${first}): it is truncated`);
  }
  return manifest;
}

async function readManifest(file: string, entry: tar.Entry, size: number): Promise<PackManifest> {
  if (size > MAX_MANIFEST_BYTES) throw bad(file, `has a manifest of ${size} bytes: more than 16 MiB is no manifest`);
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw bad(file, 'has a manifest that is not JSON: copy the pack again');
  }
  return parseManifest(json, file);
}

/** Gives the member's stream to onMember through a checking stage; drains what it left unread. */
async function handOut(
  file: string,
  entry: tar.Entry,
  member: Omit<PackMember, 'stream'>,
  options: ReadOptions,
): Promise<void> {
  let failure: Error | undefined;
  const checked = async function* () {
    const hash = createHash('sha256');
    for await (const chunk of entry) {
      hash.update(chunk);
      yield chunk;
    }
    if (hash.digest('hex') !== member.sha256) {
      failure = bad(file, `member ${member.path} does not match its SHA-256: the pack is damaged, copy it again`);
      throw failure;
    }
  };
  const stream = Readable.from(checked(), { objectMode: false });
  if (options.onMember) await options.onMember({ ...member, stream });
  if (failure) throw failure;
  // A consumer that stops half way leaves the member unchecked and the archive stream closed.
  if (!stream.readableEnded && stream.destroyed)
    throw new MakerdeckError('INTERNAL', `${member.path} was not read to its end: read it all or not at all`);
  if (!stream.readableEnded) for await (const _chunk of stream);
  if (failure) throw failure;
}

function bad(file: string, message: string): MakerdeckError {
  return new MakerdeckError('BAD_INPUT', `${path.basename(file)} ${message}`);
}

/** tar-stream's own errors (truncation, a broken header) as one line saying what to do. */
function asPackError(file: string, error: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return new MakerdeckError('CANCELLED', 'Cancelled while reading the pack');
  if (error instanceof MakerdeckError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/unexpected end/i.test(message)) return bad(file, 'ends early (truncated): copy it again');
  if (/header|tar/i.test(message))
    return bad(file, 'is no Makerdeck pack (not a tar archive): choose a .mdpack file made by makerdeck pack create');
  return new MakerdeckError('UNAVAILABLE', `${path.basename(file)} could not be read: ${message}`);
}
