// Compiling the firmware with arduino-cli. A build is config-free: the sketch never sees a profile
// (the config block is stamped at flash time, see release/), so an image is cached by its sources,
// FQBN, core and arduino-cli versions and reused for every board. The sketch is copied to a private
// folder with a header naming the build; the build path is kept per board so the core and libraries
// compile once.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MakerdeckError } from '../../contract';
import { arduinoCliVersion } from './arduinoCli';
import { buildKey, cachedImagePath, readCachedBuild, sketchSources, writeCachedBuild } from './buildCache';
import { missingCore, parseDiagnostics, type Diagnostic } from './diagnostics';
import { claimBuild, recordArduinoCli, releaseBuild, removeStaleBuilds } from './buildOwners';
import { privateBuildRoot } from './privateDir';

const SKETCH = 'firmware';

export interface CompileJob {
  arduinoCli: string;
  /** arduino-cli's config file; absent: the user's own arduino-cli configuration. */
  configFile?: string;
  sketchDir: string;
  fqbn: string;
  /** Build paths (one per board) and the image cache live here. */
  buildCacheDir: string;
  signal?: AbortSignal;
}

export interface SectionSize {
  name: string;
  size: number;
  max: number;
}

export interface CompileOutcome {
  success: boolean;
  diagnostics: Diagnostic[];
  sizes: SectionSize[];
  ms: number;
  /** One line when the build failed for a reason other than the code (missing platform, …). */
  error?: string;
  errorCode?: 'core-missing';
  missingCore?: { core: string; command: string };
  /** The flashable image, config-free (its config block blank). */
  image?: { format: 'hex' | 'bin'; data: Buffer };
  /** True when the image came from the build cache and nothing was compiled. */
  cached: boolean;
  /** The build's identity, which the firmware prints at boot (set when it built). */
  buildHash?: string;
  /** The image's file in the build cache (absent when the build could not be cached). */
  imagePath?: string;
}

/** One compile at a time per build path in this process; a second one then finds the cache. */
const building = new Map<string, Promise<unknown>>();

/** The firmware image for `job.fqbn`: from the build cache when the same build was made before, else compiled. */
export async function compileSketch(job: CompileJob): Promise<CompileOutcome> {
  const started = Date.now();
  const core = await coreVersion(job);
  const cliVersion = await arduinoCliVersion(job.arduinoCli, job.signal).catch((error: unknown) => {
    if (job.signal?.aborted) throw new MakerdeckError('CANCELLED', 'The build was cancelled; nothing was kept');
    throw error;
  });
  const key = await buildKey(job.sketchDir, { fqbn: job.fqbn, coreVersion: core ?? 'unknown', cliVersion });
  const boardDir = job.fqbn.replace(/[^A-Za-z0-9]+/g, '_');
  const previous = building.get(boardDir) ?? Promise.resolve();
  const versions = core === undefined ? undefined : { coreVersion: core, cliVersion };
  const run = previous.catch(() => undefined).then(() => cachedOrCompiled(job, key, boardDir, versions));
  building.set(boardDir, run);
  try {
    return { ...(await run), ms: Date.now() - started };
  } finally {
    if (building.get(boardDir) === run) building.delete(boardDir);
  }
}

/** Without a known core version (not installed, or unreadable) nothing is cached or reused. */
async function cachedOrCompiled(
  job: CompileJob,
  key: string,
  boardDir: string,
  versions: { coreVersion: string; cliVersion: string } | undefined,
): Promise<Omit<CompileOutcome, 'ms'>> {
  job.signal?.throwIfAborted();
  const hit = versions ? await readCachedBuild(job.buildCacheDir, key) : undefined;
  if (hit)
    return {
      success: true,
      diagnostics: [],
      sizes: hit.sizes,
      image: hit.image,
      cached: true,
      buildHash: hit.buildHash,
      imagePath: cachedImagePath(job.buildCacheDir, key, hit.image.format),
    };
  const outcome = await compileFresh(job, key.slice(0, 16), boardDir);
  if (!versions || !outcome.success || !outcome.image) return outcome;
  await writeCachedBuild(job.buildCacheDir, {
    key,
    buildHash: key.slice(0, 16),
    fqbn: job.fqbn,
    sizes: outcome.sizes,
    image: outcome.image,
    ...versions,
  });
  return { ...outcome, imagePath: cachedImagePath(job.buildCacheDir, key, outcome.image.format) };
}

async function compileFresh(job: CompileJob, buildHash: string, boardDir: string): Promise<Omit<CompileOutcome, 'ms'>> {
  const buildPath = path.join(job.buildCacheDir, boardDir);
  // One copy per build path: stable (arduino-cli keeps a build path only for the same sketch path),
  // and apart from another cache folder's compile for the same board running at the same time.
  const copyId = createHash('sha256').update(buildPath).digest('hex').slice(0, 8);
  const privateRoot = await privateBuildRoot();
  // What a killed compile left (its sketch copy, an arduino-cli still writing) goes first.
  await removeStaleBuilds(privateRoot, job.buildCacheDir, removeBuildPath);
  const workDir = path.join(privateRoot, `build-${boardDir}-${copyId}`);
  const sketchCopy = path.join(workDir, SKETCH);
  try {
    await mkdir(buildPath, { recursive: true, mode: 0o700 });
    await prepareSketchCopy(job, workDir, sketchCopy, buildPath, buildHash);
    const output = await runArduinoCli(job, (pid) => recordArduinoCli([workDir, buildPath], pid), [
      'compile',
      '--fqbn',
      job.fqbn,
      '--build-path',
      buildPath,
      '--format',
      'json',
      '--warnings',
      'default',
      sketchCopy,
    ]);
    const outcome = interpret(output, sketchCopy, buildPath, job.sketchDir);
    await attachSourceLines(outcome.diagnostics, job.sketchDir);
    if (outcome.success) outcome.image = await readImage(buildPath);
    return { ...outcome, cached: false, buildHash: outcome.success ? buildHash : undefined };
  } finally {
    await rm(workDir, SWEEP);
    if (job.signal?.aborted) await removeBuildPath(buildPath);
    await releaseBuild(buildPath);
  }
}

/**
 * Removal after a build. A cancelled arduino-cli's compilers may still be writing objects for a
 * moment, which makes a recursive rm fail with ENOTEMPTY and would hide the cancel: retry instead.
 */
const SWEEP = { recursive: true, force: true, maxRetries: 10, retryDelay: 50 } as const;

/** A fresh copy (same path every time, so arduino-cli's build cache stays valid) plus the build's name. */
async function prepareSketchCopy(
  job: CompileJob,
  workDir: string,
  sketchCopy: string,
  buildPath: string,
  buildHash: string,
): Promise<void> {
  await rm(workDir, { recursive: true, force: true });
  await mkdir(sketchCopy, { recursive: true, mode: 0o700 });
  await claimBuild([workDir, buildPath]); // a kill from here on leaves an owner file
  const files = await sketchSources(job.sketchDir);
  if (!files.includes(`${SKETCH}.ino`))
    throw new MakerdeckError('NOT_FOUND', `No ${SKETCH}.ino in ${job.sketchDir}: reinstall Makerdeck`);
  for (const name of files) await cp(path.join(job.sketchDir, name), path.join(sketchCopy, name));
  await writeFile(
    path.join(sketchCopy, 'makerdeck_build.h'),
    `// Written by Makerdeck for one build.\n#pragma once\n#define MAKERDECK_BUILD_HASH "${buildHash}"\n`,
  );
}

/** The installed version of the FQBN's platform; undefined when not installed (the compile says so) or unknown. */
async function coreVersion(job: CompileJob): Promise<string | undefined> {
  const platform = job.fqbn.split(':').slice(0, 2).join(':');
  try {
    const listed = JSON.parse(await runArduinoCli(job, noOwner, ['core', 'list', '--format', 'json'])) as {
      platforms?: Array<{ id: string; installed_version?: string }> | null;
    };
    return listed.platforms?.find((p) => p.id === platform)?.installed_version || undefined;
  } catch (error) {
    if (error instanceof MakerdeckError && error.code === 'CANCELLED') throw error;
    return undefined;
  }
}

const noOwner = async () => undefined;

function runArduinoCli(job: CompileJob, started: (pid?: number) => Promise<void>, args: string[]): Promise<string> {
  const fullArgs = job.configFile ? ['--config-file', job.configFile, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = execFile(
      job.arduinoCli,
      fullArgs,
      { signal: job.signal, maxBuffer: 64 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        if (job.signal?.aborted)
          return reject(new MakerdeckError('CANCELLED', 'The build was cancelled; nothing was kept'));
        // A failed compile exits non-zero but still prints its JSON report.
        if (stdout.trim().startsWith('{')) return resolve(stdout);
        reject(
          new MakerdeckError(
            'UNAVAILABLE',
            `arduino-cli failed: ${(stderr || error?.message || 'no output').split('\n')[0]}`,
          ),
        );
      },
    );
    // Best effort: without it a stale build is still removed, only an orphaned arduino-cli is not ended.
    started(child.pid).catch(() => undefined);
  });
}

interface ArduinoCliReport {
  success?: boolean;
  compiler_out?: string;
  compiler_err?: string;
  error?: string;
  builder_result?: {
    executable_sections_size?: Array<{ name: string; size: number; max_size: number }>;
    diagnostics?: Array<{ file: string; line: number; column?: number; severity: string; message: string }>;
  } | null;
}

function interpret(
  json: string,
  sketchCopy: string,
  buildPath: string,
  sketchDir: string,
): Omit<CompileOutcome, 'ms' | 'cached'> {
  const report = JSON.parse(json) as ArduinoCliReport;
  const toSketch = (file: string) => {
    for (const copy of [sketchCopy, path.join(buildPath, 'sketch')])
      if (file.startsWith(copy + path.sep)) return path.join(sketchDir, file.slice(copy.length + 1));
    return file;
  };
  // arduino-cli ≥ 1.0 reports structured diagnostics (lines point at the .ino); older ones only text.
  const structured = report.builder_result?.diagnostics?.map((d) => ({
    file: toSketch(d.file),
    line: d.line,
    column: d.column,
    severity: (d.severity.toLowerCase() === 'warning'
      ? 'warning'
      : d.severity.toLowerCase() === 'note'
        ? 'note'
        : 'error') as Diagnostic['severity'],
    message: d.message.split('\n')[0]!,
  }));
  const diagnostics =
    structured ?? parseDiagnostics(`${report.compiler_err ?? ''}\n${report.compiler_out ?? ''}`, toSketch);
  const sizes = (report.builder_result?.executable_sections_size ?? []).map(({ name, size, max_size }) => ({
    name,
    size,
    max: max_size,
  }));
  const success = report.success !== false && !report.error;
  const error =
    success || diagnostics.some((d) => d.severity === 'error')
      ? undefined
      : (report.error ?? 'the build failed').split('\n')[0];
  const missing = success ? undefined : missingCore(report.error);
  if (missing)
    return {
      success,
      diagnostics,
      sizes,
      error: `The board core ${missing.core} is not installed: install it with ${missing.command}`,
      errorCode: 'core-missing',
      missingCore: missing,
    };
  return { success, diagnostics, sizes, error };
}

/** Adds the offending source line to diagnostics in the sketch, for the UI and the CLI. */
async function attachSourceLines(diagnostics: Diagnostic[], sketchDir: string): Promise<void> {
  const files = new Map<string, string[] | undefined>();
  for (const diagnostic of diagnostics) {
    if (!diagnostic.file.startsWith(sketchDir + path.sep)) continue;
    if (!files.has(diagnostic.file))
      files.set(
        diagnostic.file,
        await readFile(diagnostic.file, 'utf8').then(
          (text) => text.split('\n'),
          () => undefined,
        ),
      );
    diagnostic.source = files.get(diagnostic.file)?.[diagnostic.line - 1]?.trimEnd();
  }
}

async function readImage(buildPath: string): Promise<CompileOutcome['image']> {
  // ESP32 builds also write a merged image (bootloader, partitions, app) that flashes at 0x0.
  for (const [suffix, format] of [
    ['merged.bin', 'bin'],
    ['hex', 'hex'],
    ['bin', 'bin'],
  ] as const) {
    const data = await readFile(path.join(buildPath, `${SKETCH}.ino.${suffix}`)).catch(() => undefined);
    if (data) return { format, data };
  }
  throw new MakerdeckError('INTERNAL', 'arduino-cli reported success but wrote no .hex or .bin');
}

/**
 * Removes a build path whose compilers were stopped (a cancel, or an owner killed outright): any of
 * its objects, the core's included, may be truncated yet newer than its source, which arduino-cli
 * would take as up to date and fail to link. The next build starts clean (the core from
 * arduino-cli's own core cache when it has it).
 */
function removeBuildPath(buildPath: string): Promise<void> {
  return rm(buildPath, SWEEP);
}
