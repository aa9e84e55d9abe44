// `pack.import`: a lab pack onto this machine. Nothing changes until the whole archive has been read
// once and every member matched the manifest, the profiles' passphrase opened them, and the data
// folder was found to have the space the import needs. Then the members still needed are extracted
// into `<dataDir>/packs/<packId>/files/`, and the install steps run in order, each recorded in
// import.json: a run after a kill or a cancel resumes, and steps done before say `already`.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  MakerdeckError,
  type PackFileEntry,
  type PackImportStep,
  type PackImportSummary,
  type PackManifest,
  type PackPart,
  type PackProgress,
} from '../../contract';
import type { Operation, Operations } from '../operations';
import { pathExists } from '../pathExists';
import { decodeExport } from '../profiles/exportFile';
import { arduinoCliHome } from '../firmware/arduinoCliHome';
import { ImportState } from './importState';
import {
  INDEX_MEMBER,
  installArduinoCli,
  installBuild,
  installConfig,
  installLibrary,
  installProfiles,
  type ProfileImporter,
  type StepContext,
  type StepOutcome,
} from './installSteps';
import { readPack } from './packArchive';

export interface PackImportDeps {
  dataDir: string;
  buildCacheDir: string;
  operations: Operations;
  emit(progress: PackProgress): void;
  /** Installs one core from an offline folder with the data folder's arduino-cli configuration. */
  installCore(folder: string, core: string, version: string | undefined, signal: AbortSignal): Promise<StepOutcome>;
  /** Loads a `docker save` bundle (gzip) into Docker; returns the images loaded. */
  loadImages(file: string): Promise<string[]>;
  profiles: ProfileImporter;
}

export interface PackImportArgs {
  operationId?: string;
  file: string;
  passphrase?: string;
}

interface Step {
  id: string;
  title: string;
  /** The members it reads. */
  files: PackFileEntry[];
  /** Bytes it leaves in the data folder beyond the extracted files (estimated when the pack says nothing). */
  installBytes: number;
  run(context: StepContext): Promise<StepOutcome>;
}

const MAX_PROFILE_BYTES = 1024 * 1024;
/** Unpacked size of a compressed part when its manifest does not say: a generous guess. */
const UNPACKED_FACTOR = 4;

/** Verifies, checks the space, extracts and installs; cancellable by its operation id. */
export function importPack(deps: PackImportDeps, args: PackImportArgs): Promise<PackImportSummary> {
  return deps.operations.run(args.operationId, (operation) =>
    run(deps, args, operation).catch((error: unknown) => {
      if (!operation.signal.aborted || (error instanceof MakerdeckError && error.code === 'CANCELLED')) throw error;
      throw new MakerdeckError('CANCELLED', 'Cancelled: import the pack again to resume where it stopped');
    }),
  );
}

async function run(deps: PackImportDeps, args: PackImportArgs, operation: Operation): Promise<PackImportSummary> {
  const started = Date.now();
  const file = path.resolve(args.file);
  const progress = (p: Omit<PackProgress, 'operationId'>) => deps.emit({ operationId: operation.id, ...p });
  const profiles = new Map<string, string>();
  const manifest = await verify(file, operation, progress, profiles);
  await checkPassphrase(manifest, profiles, args.passphrase);
  const dir = path.join(deps.dataDir, 'packs', manifest.id);
  const state = await ImportState.load(dir, manifest.id);
  const steps = planSteps(deps, manifest, args.passphrase);
  const todo = steps.filter((step) => !state.done(step.id, step.title));
  const members = await membersToExtract(state, todo);
  const spaceNeeded = members.reduce((sum, m) => sum + m.bytes, 0) + todo.reduce((s, t) => s + t.installBytes, 0);
  await checkSpace(deps.dataDir, spaceNeeded, progress);
  if (members.length > 0) await extract(file, state, members, operation, progress);
  const done: PackImportStep[] = [];
  const context: StepContext = { dataDir: deps.dataDir, fileOf: (m) => state.pathOf(m), signal: operation.signal };
  for (const step of steps) done.push(await runStep(step, state, context, progress));
  // What was extracted is installed now: only import.json stays, so a run again says `already`.
  await rm(path.join(dir, 'files'), { recursive: true, force: true });
  await state.forgetFiles();
  progress({ phase: 'done', message: `${manifest.name ?? manifest.id} imported` });
  const config = arduinoCliHome(deps.dataDir).configFile;
  const hasConfig = await pathExists(config);
  return {
    packId: manifest.id,
    spaceNeeded,
    steps: done,
    arduinoCliConfig: hasConfig ? config : undefined,
    ms: Date.now() - started,
  };
}

/** Reads the whole archive once (nothing written), keeping the profiles' small files to try the passphrase on. */
async function verify(
  file: string,
  operation: Operation,
  progress: (p: Omit<PackProgress, 'operationId'>) => void,
  profiles: Map<string, string>,
): Promise<PackManifest> {
  const bytesTotal = (await stat(file).catch(() => undefined))?.size;
  const tick = throttled((bytesDone: number) => progress({ phase: 'verify', bytesDone, bytesTotal }));
  progress({ phase: 'verify', bytesDone: 0, bytesTotal, message: `checking ${path.basename(file)}` });
  const manifest = await readPack(file, {
    signal: operation.signal,
    onBytes: tick,
    onMember: async (member) => {
      if (!member.path.startsWith('profiles/') || member.bytes > MAX_PROFILE_BYTES) return;
      const chunks: Buffer[] = [];
      for await (const chunk of member.stream) chunks.push(chunk as Buffer);
      profiles.set(member.path, Buffer.concat(chunks).toString('utf8'));
    },
  });
  progress({ phase: 'verify', bytesDone: bytesTotal, bytesTotal, message: 'every checksum matches' });
  return manifest;
}

/** A pack with profiles needs the passphrase, and it must open every one of them: checked before any change. */
async function checkPassphrase(manifest: PackManifest, contents: Map<string, string>, passphrase?: string) {
  const files = manifest.parts.filter((p) => p.kind === 'profiles').flatMap((p) => p.files);
  if (files.length === 0) return;
  if (!passphrase)
    throw new MakerdeckError(
      'BAD_INPUT',
      `This pack carries ${files.length} encrypted profile(s): give the passphrase it was created with. Nothing was changed`,
    );
  for (const file of files) {
    const content = contents.get(file.path);
    if (content === undefined) throw new MakerdeckError('BAD_INPUT', `${file.path} is too large to be a profile`);
    await decodeExport(content, passphrase).catch((error: Error) => {
      throw new MakerdeckError(
        'BAD_INPUT',
        `${file.path}: ${error.message.replace(/: nothing was imported$/, '')}. Nothing was changed`,
      );
    });
  }
}

/** The steps for this machine, in order: arduino-cli, its configuration, cores, libraries, builds, profiles, images. */
function planSteps(deps: PackImportDeps, manifest: PackManifest, passphrase?: string): Step[] {
  const target = `${process.platform}-${process.arch}`;
  const of = (kind: PackPart['kind']) => manifest.parts.filter((p) => p.kind === kind);
  const unpacked = (p: PackPart) => p.installedBytes ?? p.bytes * UNPACKED_FACTOR;
  const cores = of('core');
  const steps: Step[] = [];
  for (const part of of('arduino-cli').filter((p) => p.id === `arduino-cli/${target}`))
    steps.push(step(part, unpacked(part), (c) => installArduinoCli(part, c)));
  if (cores.length > 0 || steps.length > 0) {
    const indexes = cores.flatMap((p) => p.files).filter((f) => INDEX_MEMBER.test(f.path));
    steps.push({
      id: 'arduino-cli/config',
      title: "arduino-cli's configuration in the data folder",
      files: indexes,
      installBytes: indexes.reduce((sum, f) => sum + f.bytes, 0),
      run: (c) => installConfig(cores, c),
    });
  }
  const indexes = cores.flatMap((p) => p.files).filter((f) => INDEX_MEMBER.test(f.path));
  for (const part of cores) {
    const id = part.id.slice('core/'.length);
    // The staged copies in arduino-cli's downloads folder, then the unpacked core and tools.
    const core = step(part, part.bytes + unpacked(part), (c) =>
      deps.installCore(path.dirname(c.fileOf(part.files[0]!.path)), id, part.version, c.signal),
    );
    steps.push({ ...core, files: unique([...part.files, ...indexes]) });
  }
  for (const part of of('library')) steps.push(step(part, unpacked(part), (c) => installLibrary(part, c)));
  for (const part of of('build'))
    steps.push(step(part, part.bytes, (c) => installBuild(part, { ...c, buildCacheDir: deps.buildCacheDir })));
  for (const part of of('profiles'))
    steps.push(step(part, 0, (c) => installProfiles(part, { ...c, profiles: deps.profiles, passphrase })));
  for (const part of of('images'))
    steps.push(
      step(part, 0, async (c) => {
        const member = part.files[0];
        if (!member) throw new MakerdeckError('BAD_INPUT', `The pack's ${part.id} holds no image bundle`);
        const images = await deps.loadImages(c.fileOf(member.path));
        return { result: 'done', detail: `loaded into Docker: ${images.join(', ') || 'nothing new'}` };
      }),
    );
  return steps;
}

function step(part: PackPart, installBytes: number, run: Step['run']): Step {
  return { id: part.id, title: part.title, files: part.files, installBytes, run };
}

function unique(files: PackFileEntry[]): PackFileEntry[] {
  return [...new Map(files.map((f) => [f.path, f])).values()];
}

async function membersToExtract(state: ImportState, todo: Step[]): Promise<PackFileEntry[]> {
  const wanted = unique(todo.flatMap((s) => s.files));
  const missing: PackFileEntry[] = [];
  for (const entry of wanted) if (!(await state.extracted(entry))) missing.push(entry);
  return missing;
}

/** Refuses, in one line with both figures, when the data folder has less free space than the import needs. */
async function checkSpace(dataDir: string, needed: number, progress: (p: Omit<PackProgress, 'operationId'>) => void) {
  const free = await freeBytes(dataDir);
  progress({
    phase: 'space',
    bytesDone: needed,
    bytesTotal: free,
    message: `needs ${size(needed)}, ${size(free)} free`,
  });
  if (free < needed)
    throw new MakerdeckError(
      'UNAVAILABLE',
      `The import needs ${size(needed)} free in ${dataDir}, which has ${size(free)} free: free some space (or set MAKERDECK_DATA_DIR to a larger disk) and import again. Nothing was changed`,
    );
}

/** Free bytes (for this user) on the disk holding `dir`, or its nearest existing parent. */
async function freeBytes(dir: string): Promise<number> {
  let probe = path.resolve(dir);
  for (;;) {
    const info = await statfs(probe).catch(() => undefined);
    if (info) return info.bavail * info.bsize;
    const parent = path.dirname(probe);
    if (parent === probe) throw new MakerdeckError('UNAVAILABLE', `Cannot tell the free space of ${dir}`);
    probe = parent;
  }
}

/** Reads the archive again, writing each member still needed (checked as it streams) and recording it. */
async function extract(
  file: string,
  state: ImportState,
  members: PackFileEntry[],
  operation: Operation,
  progress: (p: Omit<PackProgress, 'operationId'>) => void,
): Promise<void> {
  const wanted = new Map(members.map((m) => [m.path, m]));
  const bytesTotal = members.reduce((sum, m) => sum + m.bytes, 0);
  let bytesDone = 0;
  const tick = throttled((done: number, part?: string) =>
    progress({ phase: 'extract', part, bytesDone: done, bytesTotal }),
  );
  await mkdir(state.dir, { recursive: true, mode: 0o700 });
  await readPack(file, {
    signal: operation.signal,
    onMember: async (member) => {
      const entry = wanted.get(member.path);
      if (!entry) return;
      const target = state.pathOf(member.path);
      const partial = `${target}.partial`;
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      const counted = async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          bytesDone += chunk.length;
          tick(bytesDone, member.part);
          yield chunk;
        }
      };
      await pipeline(member.stream, counted, createWriteStream(partial, { mode: 0o600 }), { signal: operation.signal });
      await rename(partial, target); // only a member read to its end and matching its checksum
      await state.markExtracted(entry);
    },
  });
  progress({ phase: 'extract', bytesDone, bytesTotal, message: `${members.length} file(s) extracted` });
}

async function runStep(
  step: Step,
  state: ImportState,
  context: StepContext,
  progress: (p: Omit<PackProgress, 'operationId'>) => void,
): Promise<PackImportStep> {
  const earlier = state.done(step.id, step.title);
  if (earlier) {
    progress({ phase: 'install', part: step.id, message: `${step.title}: already` });
    return earlier;
  }
  context.signal.throwIfAborted();
  progress({ phase: 'install', part: step.id, message: `${step.title}: installing` });
  const outcome = await step.run(context).catch((error: unknown) => {
    if (context.signal.aborted) throw new MakerdeckError('CANCELLED', 'Cancelled: import the pack again to resume');
    throw error;
  });
  await state.markDone(step.id, outcome.detail);
  progress({ phase: 'install', part: step.id, message: `${step.title}: ${outcome.result}` });
  return { part: step.id, title: step.title, ...outcome };
}

/** Calls `fn` at most every 100 ms (bytes progress arrives per chunk). */
function throttled<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let last = 0;
  return (...args) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    fn(...args);
  };
}

/** Bytes for people, as the CLI says them: KiB under a MiB, else MiB with one decimal. */
export function size(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
