// Compiling the firmware with arduino-cli, the 12-factor way: config.h (with secrets) is written
// into a private copy of the sketch that exists only for the build. The build path is kept per
// profile and board so the core and libraries compile once; what it holds of the sketch (objects,
// the image, the copy of config.h) is scrubbed after every build, so no secret stays on disk.
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MakerdeckError } from '../../contract';
import { configHeader, type ConfigValues } from './configHeader';
import { missingCore, parseDiagnostics, type Diagnostic } from './diagnostics';
import { claimBuild, recordArduinoCli, releaseBuild, removeStaleBuilds } from './buildOwners';
import { privateBuildRoot } from './privateDir';

const SKETCH = 'firmware';
const SOURCE_FILES = /\.(ino|h|hpp|c|cpp|S)$/;

export interface CompileJob {
  arduinoCli: string;
  /** arduino-cli's config file; absent: the user's own arduino-cli configuration. */
  configFile?: string;
  sketchDir: string;
  fqbn: string;
  /** Persistent build paths live here, one per `buildKey`. */
  buildCacheDir: string;
  buildKey: string;
  config: ConfigValues;
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
  /** The flashable image, in memory only. */
  image?: { format: 'hex' | 'bin'; data: Buffer };
}

export async function compileSketch(job: CompileJob): Promise<CompileOutcome> {
  const started = Date.now();
  const privateRoot = await privateBuildRoot();
  // What a killed compile left (config.h copies, objects with its secrets) goes first.
  await removeStaleBuilds(privateRoot, job.buildCacheDir, scrubBuildPath);
  const workDir = path.join(privateRoot, `build-${job.buildKey}`);
  const sketchCopy = path.join(workDir, SKETCH);
  const buildPath = path.join(job.buildCacheDir, job.buildKey);
  try {
    await mkdir(buildPath, { recursive: true, mode: 0o700 });
    await prepareSketchCopy(job, workDir, sketchCopy, buildPath);
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
    return { ...outcome, ms: Date.now() - started };
  } finally {
    await rm(workDir, SWEEP);
    await scrubBuildPath(buildPath);
    await releaseBuild(buildPath);
  }
}

/**
 * Removal after a build. A cancelled arduino-cli's compilers may still be writing objects for a
 * moment, which makes a recursive rm fail with ENOTEMPTY and would hide the cancel: retry instead.
 */
const SWEEP = { recursive: true, force: true, maxRetries: 10, retryDelay: 50 } as const;

/** A fresh copy (same path every time, so arduino-cli's build cache stays valid) plus config.h. */
async function prepareSketchCopy(
  job: CompileJob,
  workDir: string,
  sketchCopy: string,
  buildPath: string,
): Promise<void> {
  await rm(workDir, { recursive: true, force: true });
  await mkdir(sketchCopy, { recursive: true, mode: 0o700 });
  await claimBuild([workDir, buildPath]); // before config.h: a kill from here on leaves an owner file
  const files = (await readdir(job.sketchDir)).filter(
    (name) => SOURCE_FILES.test(name) && name !== 'config.h' && name !== 'config.example.h',
  );
  if (!files.includes(`${SKETCH}.ino`))
    throw new MakerdeckError('NOT_FOUND', `No ${SKETCH}.ino in ${job.sketchDir}: reinstall Makerdeck`);
  for (const name of files) await cp(path.join(job.sketchDir, name), path.join(sketchCopy, name));
  await writeFile(path.join(sketchCopy, 'config.h'), configHeader(job.config), { mode: 0o600 });
}

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

function interpret(json: string, sketchCopy: string, buildPath: string, sketchDir: string): Omit<CompileOutcome, 'ms'> {
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

/** Removes everything in the build path derived from the sketch (and so from config.h). */
async function scrubBuildPath(buildPath: string): Promise<void> {
  const entries = await readdir(buildPath).catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((name) => name === 'sketch' || name === 'preproc' || name.startsWith(`${SKETCH}.ino`))
      .map((name) => rm(path.join(buildPath, name), SWEEP)),
  );
}
