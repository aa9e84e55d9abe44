#!/usr/bin/env node
// Builds arduino-cli from its Go module at the pinned version (scripts/arduinoCli/go.mod + go.sum) for any
// of the desktop package's targets, and fills resources/arduino-cli/<platform>-<arch>/ with the results
// plus SHA256SUMS and build.json. The test rig builds its host binary through the same function and cache.
//
// Usage: node scripts/buildArduinoCli.js [--target linux-x64]...   (default: all five targets)
// Needs Go (GOTOOLCHAIN=local: the installed one, never a download) and the Go module proxy the first time;
// binaries are cached in $MAKERDECK_RIG_CACHE/arduino-cli/<version>-<target>-<inputs hash>/, so a second
// run copies them (no Go needed then).
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRigCache, findGo } from './rig/common.js';
import { isMain, run } from './services/proc.js';

/** The arduino-cli release Makerdeck carries (Go module github.com/arduino/arduino-cli@v<this>). */
export const ARDUINO_CLI_VERSION = '1.0.4';
// What upstream's release build stamps in with -ldflags (tag v1.0.4 = commit a0d912da…, tagged at this time).
const ARDUINO_CLI_COMMIT = 'a0d912da';
const ARDUINO_CLI_DATE = '2024-08-12T13:32:50Z';
const ARDUINO_CLI_MODULE = 'github.com/arduino/arduino-cli';

/** The package targets, as `<process.platform>-<process.arch>`, with their Go GOOS/GOARCH. */
export const ARDUINO_CLI_TARGETS = /** @type {const} */ ({
  'linux-x64': { goos: 'linux', goarch: 'amd64' },
  'linux-arm64': { goos: 'linux', goarch: 'arm64' },
  'darwin-x64': { goos: 'darwin', goarch: 'amd64' },
  'darwin-arm64': { goos: 'darwin', goarch: 'arm64' },
  'win32-x64': { goos: 'windows', goarch: 'amd64' },
});
/** @typedef {keyof typeof ARDUINO_CLI_TARGETS} ArduinoCliTarget */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The wrapper Go module that pins arduino-cli (go.mod, go.sum, tools.go). */
export const ARDUINO_CLI_GO_MODULE_DIR = path.join(root, 'scripts', 'arduinoCli');
/** Where the package picks the binaries up (electron-builder.yml extraResources). */
export const ARDUINO_CLI_RESOURCES_DIR = path.join(root, 'resources', 'arduino-cli');

/** @param {string} target */
export const arduinoCliExe = (target) => (target.startsWith('win32-') ? 'arduino-cli.exe' : 'arduino-cli');

/** This machine's target, e.g. linux-x64. */
export const hostTarget = () => `${process.platform}-${process.arch}`;

/** @typedef {{ file: string, bytes: number, sha256: string, goVersion: string }} RecordedBinary */
const mib = (/** @type {number} */ bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const secondsSince = (/** @type {number} */ t0) => ((performance.now() - t0) / 1000).toFixed(1);

/** @param {string | Buffer} data */
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

const LDFLAGS = [
  '-s',
  '-w',
  `-X ${ARDUINO_CLI_MODULE}/version.versionString=${ARDUINO_CLI_VERSION}`,
  `-X ${ARDUINO_CLI_MODULE}/version.commit=${ARDUINO_CLI_COMMIT}`,
  `-X ${ARDUINO_CLI_MODULE}/version.date=${ARDUINO_CLI_DATE}`,
].join(' ');

/** The hash of everything that decides the binary (but the Go release, which build.json records). */
function inputsHash(/** @type {ArduinoCliTarget} */ target) {
  const read = (/** @type {string} */ name) => readFileSync(path.join(ARDUINO_CLI_GO_MODULE_DIR, name), 'utf8');
  const goMod = read('go.mod');
  if (!goMod.includes(`require ${ARDUINO_CLI_MODULE} v${ARDUINO_CLI_VERSION}`)) {
    throw new Error(
      `${ARDUINO_CLI_GO_MODULE_DIR}/go.mod does not require ${ARDUINO_CLI_MODULE} v${ARDUINO_CLI_VERSION}`,
    );
  }
  const { goos, goarch } = ARDUINO_CLI_TARGETS[target];
  return sha256([ARDUINO_CLI_VERSION, LDFLAGS, goos, goarch, goMod, read('go.sum'), read('tools.go')].join('\0'));
}

/**
 * Where the cache keeps the binary for `target` built from the current inputs, and their hash.
 * @param {ArduinoCliTarget} target
 * @param {string} cacheDir
 */
export function arduinoCliCacheEntry(target, cacheDir) {
  const inputs = inputsHash(target);
  const outDir = path.join(cacheDir, 'arduino-cli', `${ARDUINO_CLI_VERSION}-${target}-${inputs.slice(0, 16)}`);
  return { inputs, outDir, bin: path.join(outDir, arduinoCliExe(target)), stampFile: path.join(outDir, 'build.json') };
}

/**
 * @typedef {{ target: ArduinoCliTarget, bin: string, version: string, bytes: number, sha256: string,
 *   goVersion: string, built: boolean, seconds: number }} ArduinoCliBuild
 */

/**
 * The arduino-cli binary for `target`, from the cache or built now (then cached).
 * @param {{ target?: ArduinoCliTarget, cacheDir?: string, log?: (line: string) => void }} [options]
 * @returns {Promise<ArduinoCliBuild>}
 */
export async function buildArduinoCli({
  target = /** @type {ArduinoCliTarget} */ (hostTarget()),
  cacheDir = defaultRigCache(),
  log = console.log,
} = {}) {
  if (!(target in ARDUINO_CLI_TARGETS)) {
    throw new Error(
      `unknown arduino-cli target "${target}": use one of ${Object.keys(ARDUINO_CLI_TARGETS).join(', ')}`,
    );
  }
  const { inputs, outDir, bin, stampFile } = arduinoCliCacheEntry(target, cacheDir);
  const cached = readStamp(stampFile);
  if (cached?.inputs === inputs && existsSync(bin)) {
    const data = readFileSync(bin);
    if (sha256(data) === cached.sha256)
      return { ...describe(target, bin, data, cached.goVersion), built: false, seconds: 0 };
    log(`[arduino-cli] ${bin} does not match its recorded SHA-256: building it again`);
  }
  const go = findGo(`to build arduino-cli ${ARDUINO_CLI_VERSION} for ${target} (once per cache)`);
  const { goos, goarch } = ARDUINO_CLI_TARGETS[target];
  const env = {
    ...process.env,
    CGO_ENABLED: '0',
    GOOS: goos,
    GOARCH: goarch,
    GOTOOLCHAIN: 'local', // never fetch another Go toolchain
    GOFLAGS: '-mod=readonly -buildvcs=false', // go.sum is committed: fail instead of editing it
  };
  mkdirSync(outDir, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}-${Date.now()}`;
  log(`[arduino-cli] building ${ARDUINO_CLI_VERSION} for ${target} (GOOS=${goos} GOARCH=${goarch}) with ${go}`);
  const t0 = performance.now();
  const r = await run(go, ['build', '-trimpath', '-ldflags', LDFLAGS, '-o', tmp, ARDUINO_CLI_MODULE], {
    cwd: ARDUINO_CLI_GO_MODULE_DIR,
    env,
    timeoutMs: 30 * 60_000,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(
      `go build of arduino-cli ${ARDUINO_CLI_VERSION} for ${target} failed (exit ${r.code}):\n` +
        (r.stdout + r.stderr).slice(-4000),
    );
  }
  renameSync(tmp, bin);
  const goVersion = (await run(go, ['env', 'GOVERSION'], { env })).stdout.trim();
  const result = { ...describe(target, bin, readFileSync(bin), goVersion), built: true, seconds };
  const stamp = {
    version: ARDUINO_CLI_VERSION,
    target,
    goVersion,
    inputs,
    sha256: result.sha256,
    bytes: result.bytes,
    seconds: Math.round(seconds),
  };
  writeFileSync(stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
  log(`[arduino-cli] built ${target} in ${seconds.toFixed(1)} s: ${mib(result.bytes)} (${goVersion})`);
  return result;
}

/**
 * @param {ArduinoCliTarget} target
 * @param {string} bin
 * @param {Buffer} data
 * @param {string} goVersion
 */
const describe = (target, bin, data, goVersion) => ({
  target,
  bin,
  version: ARDUINO_CLI_VERSION,
  bytes: data.length,
  sha256: sha256(data),
  goVersion,
});

/** @param {string} file */
function readStamp(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Fill resources/arduino-cli/<target>/ for each target and record SHA256SUMS (sha256sum -c format) and
 * build.json (version, Go release, bytes and SHA-256 per target). Targets not asked for keep what they had.
 * @param {{ targets?: ArduinoCliTarget[], cacheDir?: string, resourcesDir?: string,
 *   log?: (line: string) => void }} [options]
 * @returns {Promise<ArduinoCliBuild[]>}
 */
export async function fillArduinoCliResources({
  targets = /** @type {ArduinoCliTarget[]} */ (Object.keys(ARDUINO_CLI_TARGETS)),
  cacheDir = defaultRigCache(),
  resourcesDir = ARDUINO_CLI_RESOURCES_DIR,
  log = console.log,
} = {}) {
  // A record of another arduino-cli version says nothing about these binaries: start it again.
  const previous = readRecord(resourcesDir);
  const record = previous.version === ARDUINO_CLI_VERSION ? previous : { version: ARDUINO_CLI_VERSION, targets: {} };
  /** @type {ArduinoCliBuild[]} */
  const builds = [];
  for (const target of targets) {
    const b = await buildArduinoCli({ target, cacheDir, log });
    builds.push(b);
    const dest = path.join(resourcesDir, b.target, arduinoCliExe(b.target));
    mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.tmp-${process.pid}`;
    copyFileSync(b.bin, tmp);
    renameSync(tmp, dest);
    const { bytes, sha256, goVersion } = b;
    record.targets[b.target] = { file: `${b.target}/${arduinoCliExe(b.target)}`, bytes, sha256, goVersion };
    writeRecord(resourcesDir, record); // after each target, so a failure later leaves a true record
  }
  return builds;
}

/**
 * Write build.json and SHA256SUMS for the binaries resources/arduino-cli holds (entries whose file is gone
 * or has another size are dropped, so the record says exactly what is there).
 * @param {string} resourcesDir
 * @param {ReturnType<typeof readRecord>} record
 */
function writeRecord(resourcesDir, record) {
  for (const [target, t] of Object.entries(record.targets)) {
    const file = path.join(resourcesDir, t.file);
    if (!existsSync(file) || statSync(file).size !== t.bytes) delete record.targets[target];
  }
  const entries = Object.entries(record.targets).sort(([a], [b]) => a.localeCompare(b));
  record.targets = Object.fromEntries(entries);
  writeFileSync(path.join(resourcesDir, 'build.json'), `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(path.join(resourcesDir, 'SHA256SUMS'), entries.map(([, t]) => `${t.sha256}  ${t.file}\n`).join(''));
}

/**
 * What resources/arduino-cli/build.json records: { version, targets: { <target>: { file, bytes, sha256, goVersion } } }
 * @param {string} [resourcesDir]
 * @returns {{ version: string, targets: Record<string, RecordedBinary> }}
 */
export function readRecord(resourcesDir = ARDUINO_CLI_RESOURCES_DIR) {
  const record = readStamp(path.join(resourcesDir, 'build.json'));
  return record && typeof record.targets === 'object' ? record : { version: ARDUINO_CLI_VERSION, targets: {} };
}

/** @param {string[]} argv */
function parseTargets(argv) {
  /** @type {ArduinoCliTarget[]} */
  const targets = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = arg === '--target' ? argv[++i] : arg.startsWith('--target=') ? arg.slice(9) : undefined;
    if (value === undefined) throw new Error(`unknown argument "${arg}": usage: buildArduinoCli.js [--target T]...`);
    if (value === 'host') targets.push(/** @type {ArduinoCliTarget} */ (hostTarget()));
    else targets.push(/** @type {ArduinoCliTarget} */ (value));
  }
  return targets.length ? targets : /** @type {ArduinoCliTarget[]} */ (Object.keys(ARDUINO_CLI_TARGETS));
}

if (isMain(import.meta.url)) {
  try {
    const t0 = performance.now();
    const builds = await fillArduinoCliResources({ targets: parseTargets(process.argv.slice(2)) });
    for (const b of builds) {
      const how = b.built ? `built in ${b.seconds.toFixed(1)} s` : 'from the cache';
      console.log(
        `  ${b.target.padEnd(13)} ${(b.bytes / 1024 / 1024).toFixed(1).padStart(5)} MiB  ${b.sha256}  ${how}`,
      );
    }
    console.log(`arduino-cli ${ARDUINO_CLI_VERSION}: resources/arduino-cli filled in ${secondsSince(t0)} s`);
  } catch (error) {
    console.error(`buildArduinoCli: ${/** @type {Error} */ (error).message}`);
    process.exit(1);
  }
}
