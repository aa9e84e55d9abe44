// Test rig: a real arduino-cli (built from its Go module at a pinned version) plus Debian's AVR
// platform laid out in a private sketchbook, so tests can compile for arduino:avr:uno / :nano
// fully offline. Node built-ins only (plus the sibling service helpers).
//
//   import { ensureArduinoRig, defaultRigCache, RIG_DEBIAN_PACKAGES } from './scripts/rig/arduino.js';
//   await ensureDebianPackages(RIG_DEBIAN_PACKAGES);          // scripts/services/apt.js
//   const rig = await ensureArduinoRig({ cacheDir: defaultRigCache() });
//   // rig.arduinoCli --config-file rig.configFile compile --fqbn arduino:avr:uno --format json ...
//
// Self-check: node scripts/rig/arduino.js --self-test
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { missingDebianPackages } from '../services/apt.js';
import { isMain, run } from '../services/proc.js';
import { ARDUINO_CLI_VERSION, buildArduinoCli, hostTarget } from '../buildArduinoCli.js';
import { defaultRigCache } from './common.js';

// arduino-cli itself: one pin and one build for the rig and the desktop package (scripts/buildArduinoCli.js).
export { ARDUINO_CLI_GO_MODULE_DIR, ARDUINO_CLI_VERSION } from '../buildArduinoCli.js';

/** Debian packages the rig needs (pass to ensureDebianPackages from scripts/services/apt.js). */
export const RIG_DEBIAN_PACKAGES = [
  'arduino-core-avr', // the arduino:avr platform in /usr/share/arduino/hardware/arduino/avr
  'gcc-avr', // avr-gcc / avr-g++ 5.4 in /usr/bin
  'binutils-avr', // avr-objcopy, avr-size, avr-gcc-ar's binutils
  'avr-libc',
  'arduino-ctags', // /usr/bin/arduino-ctags: arduino-cli runs it to generate .ino prototypes
  'avrdude', // uploads (tools.avrdude.* in Debian's platform.txt point at /usr/bin/avrdude)
];

const DEBIAN_AVR_PLATFORM = '/usr/share/arduino/hardware/arduino/avr';
// Files that must exist for the rig to work, and the package that brings each.
/** @type {[file: string, pkg: string][]} */
const REQUIRED_FILES = [
  [path.join(DEBIAN_AVR_PLATFORM, 'platform.txt'), 'arduino-core-avr'],
  ['/usr/bin/avr-g++', 'gcc-avr'],
  ['/usr/bin/avr-gcc-ar', 'gcc-avr'],
  ['/usr/bin/avr-objcopy', 'binutils-avr'],
  ['/usr/bin/avr-size', 'binutils-avr'],
  ['/usr/lib/avr/include/avr/io.h', 'avr-libc'],
  ['/usr/bin/arduino-ctags', 'arduino-ctags'],
  ['/usr/bin/avrdude', 'avrdude'],
];

// Debian-only workarounds. They live in the rig's copy of the platform, never in the app.
const PLATFORM_LOCAL_TXT = `# Makerdeck test rig: Debian-only workarounds (written by scripts/rig/arduino.js; do not edit).
# Debian's platform.txt already points compiler.path at /usr/bin/ and tools.avrdude at
# /usr/bin/avrdude + /etc/avrdude.conf; repeated here so the rig does not depend on that.
compiler.path=/usr/bin/
# Debian's avr-libc 2.0 / gcc-avr 5.4 do not define DECIMAL_DIG for C++, and the core's
# WString.cpp uses it ("'DECIMAL_DIG' was not declared in this scope").
compiler.cpp.extra_flags=-DDECIMAL_DIG=__DECIMAL_DIG__
# arduino-cli runs {runtime.tools.ctags.path}/ctags for .ino prototypes; that tool normally comes
# from the package index (builtin:ctags). Debian ships the same fork (5.8-arduino11) as arduino-ctags.
tools.ctags.path=/usr/bin
tools.ctags.cmd.path={path}/arduino-ctags
tools.avrdude.path=/usr
tools.avrdude.cmd.path={path}/bin/avrdude
tools.avrdude.config.path=/etc/avrdude.conf
`;

// Bump when the layout below changes, so existing caches are laid out again.
const LAYOUT_VERSION = 1;

/** @param {(string | number)[]} parts */
const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(String(p)).update('\0');
  return h.digest('hex');
};

/**
 * @template {string | null} T
 * @param {string} file
 * @param {T} fallback
 * @returns {string | T}
 */
const readOr = (file, fallback) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};

/**
 * Write `content` to `file` only if it differs (atomic rename); returns true if written.
 * @param {string} file
 * @param {string} content
 */
function writeIfChanged(file, content) {
  if (readOr(file, null) === content) return false;
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
  return true;
}

/** The environment for running arduino-cli: ARDUINO_* variables would override the config file. */
export function rigEnv(base = process.env) {
  return Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('ARDUINO_')));
}

/**
 * @param {string} bin
 * @param {string} configFile
 * @returns {Promise<string>}
 */
async function cliVersion(bin, configFile) {
  // With the rig's config: updater.enable_notification=false, so `version` does not go online.
  const r = await run(bin, ['--config-file', configFile, 'version', '--format', 'json'], {
    env: rigEnv(),
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`${bin} version failed (exit ${r.code}): ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout).VersionString;
}

/** @typedef {(line: string) => void} Log */

/** @param {string} home */
function configYaml(home) {
  const q = (/** @type {string} */ p) => JSON.stringify(p); // a JSON string is a valid YAML double-quoted scalar
  return `# arduino-cli config for Makerdeck's test rig (written by scripts/rig/arduino.js; do not edit).
# Offline by construction: no additional index URLs; data/ holds empty package_index.json and
# library_index.json so arduino-cli's "first run" never downloads the indexes; the updater is off.
board_manager:
  additional_urls: []
directories:
  data: ${q(path.join(home, 'data'))}
  downloads: ${q(path.join(home, 'downloads'))}
  user: ${q(path.join(home, 'sketchbook'))}
build_cache:
  path: ${q(path.join(home, 'build-cache'))}
library:
  enable_unsafe_install: false
locale: en
metrics:
  enabled: false
output:
  no_color: true
sketch:
  always_export_binaries: false
updater:
  enable_notification: false
`;
}

/**
 * Lay out data/, sketchbook/hardware/arduino/avr (a copy of Debian's) and the config under `home`.
 * @param {string} home
 */
async function ensureLayout(home) {
  const platformDir = path.join(home, 'sketchbook', 'hardware', 'arduino', 'avr');
  const configFile = path.join(home, 'arduino-cli.yaml');
  const stampFile = path.join(home, 'rig.json');
  const debianStat = statSync(path.join(DEBIAN_AVR_PLATFORM, 'platform.txt'));
  const boardsStat = statSync(path.join(DEBIAN_AVR_PLATFORM, 'boards.txt'));
  const want = sha256(
    LAYOUT_VERSION,
    PLATFORM_LOCAL_TXT,
    debianStat.mtimeMs,
    debianStat.size,
    boardsStat.mtimeMs,
    boardsStat.size,
  );
  const have = JSON.parse(readOr(stampFile, 'null') ?? 'null');
  const platformOk = have?.platform === want && existsSync(path.join(platformDir, 'platform.local.txt'));

  for (const dir of ['data', 'downloads', 'sketchbook/libraries', 'build-cache']) {
    mkdirSync(path.join(home, dir), { recursive: true });
  }
  // Empty indexes: arduino-cli downloads them on first run when they are missing.
  for (const [name, body] of /** @type {[string, string][]} */ ([
    ['package_index.json', '{"packages":[]}\n'],
    ['library_index.json', '{"libraries":[]}\n'],
  ])) {
    const file = path.join(home, 'data', name);
    if (!existsSync(file)) writeIfChanged(file, body);
  }
  writeIfChanged(configFile, configYaml(home));

  if (!platformOk) {
    // Copy (not symlink) so platform.local.txt can sit beside platform.txt. Dereference symlinks:
    // Debian's bootloaders/stk500v2/License.txt is a relative link to /usr/share/common-licenses,
    // which dangles in a copy, and a dangling *.txt makes arduino-cli wipe the build path on
    // every compile (its "did the core change?" scan fails), so nothing would be incremental.
    // Staged under home/tmp (same filesystem, so rename works; outside hardware/, where a
    // half-copied directory would be loaded as another platform).
    const staging = path.join(home, 'tmp');
    mkdirSync(staging, { recursive: true });
    mkdirSync(path.dirname(platformDir), { recursive: true });
    const fresh = mkdtempSync(path.join(staging, 'avr-new-'));
    cpSync(DEBIAN_AVR_PLATFORM, fresh, { recursive: true, dereference: true });
    writeFileSync(path.join(fresh, 'platform.local.txt'), PLATFORM_LOCAL_TXT);
    if (existsSync(platformDir)) {
      const old = mkdtempSync(path.join(staging, 'avr-old-'));
      renameSync(platformDir, path.join(old, 'avr'));
      rmSync(old, { recursive: true, force: true });
    }
    try {
      renameSync(fresh, platformDir);
    } catch (err) {
      // Another process laid it out at the same moment: keep theirs.
      rmSync(fresh, { recursive: true, force: true });
      if (!existsSync(path.join(platformDir, 'platform.local.txt'))) throw err;
    }
    // Cores cached from the previous copy must not be linked into new builds.
    rmSync(path.join(home, 'build-cache'), { recursive: true, force: true });
    mkdirSync(path.join(home, 'build-cache'), { recursive: true });
    writeIfChanged(stampFile, `${JSON.stringify({ layout: LAYOUT_VERSION, platform: want }, null, 2)}\n`);
  }
  return { configFile, sketchbookDir: path.join(home, 'sketchbook'), dataDir: path.join(home, 'data'), platformDir };
}

/**
 * Make sure the rig exists under `cacheDir` and return how to run it:
 * { arduinoCli, configFile, sketchbookDir, version, dataDir, platformDir, env }.
 * Run arduino-cli as `arduinoCli --config-file configFile ...` with `env` (process.env minus ARDUINO_*).
 * Needs the RIG_DEBIAN_PACKAGES installed (throws naming the missing ones) and, the first time
 * for a cacheDir, Go and the Go module proxy.
 * @param {{ cacheDir?: string, log?: Log }} [options]
 * @returns {Promise<ArduinoRig>}
 */
export function ensureArduinoRig({ cacheDir = defaultRigCache(), log = console.log } = {}) {
  cacheDir = path.resolve(cacheDir);
  // Concurrent calls in one process share one run (they would otherwise race on the same temp files).
  let p = inflight.get(cacheDir);
  if (!p) {
    p = ensureRig(cacheDir, log).finally(() => inflight.delete(cacheDir));
    inflight.set(cacheDir, p);
  }
  return p;
}
/** @type {Map<string, Promise<ArduinoRig>>} */
const inflight = new Map();

/**
 * @typedef {{ arduinoCli: string, version: string, configFile: string, sketchbookDir: string, dataDir: string,
 *   platformDir: string, env: NodeJS.ProcessEnv }} ArduinoRig
 */

/**
 * @param {string} cacheDir
 * @param {Log} log
 * @returns {Promise<ArduinoRig>}
 */
async function ensureRig(cacheDir, log) {
  const missingPkgs = await missingDebianPackages(RIG_DEBIAN_PACKAGES);
  const missingFiles = REQUIRED_FILES.filter(([file]) => !existsSync(file));
  if (missingPkgs.length || missingFiles.length) {
    const pkgs = [...new Set([...missingPkgs, ...missingFiles.map(([, pkg]) => pkg)])];
    const files = missingFiles.map(([file]) => file);
    throw new Error(
      `arduino rig: missing Debian packages: ${pkgs.join(' ')}${files.length ? ` (missing files: ${files.join(', ')})` : ''}; ` +
        `install them first with ensureDebianPackages(RIG_DEBIAN_PACKAGES) from scripts/services/apt.js, ` +
        `or as root: apt-get install -y --no-install-recommends ${pkgs.join(' ')}`,
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  const { bin } = await buildArduinoCli({ target: /** @type {any} */ (hostTarget()), cacheDir, log });
  const layout = await ensureLayout(path.join(cacheDir, 'arduino'));
  const version = await cliVersion(bin, layout.configFile);
  if (version !== ARDUINO_CLI_VERSION) {
    throw new Error(
      `arduino rig: ${bin} reports version ${version}, expected ${ARDUINO_CLI_VERSION}; delete ${path.dirname(bin)} to rebuild`,
    );
  }
  return { arduinoCli: bin, version, ...layout, env: rigEnv() };
}

/**
 * Compile a sketch with the rig; resolves { code, result, stderr, seconds } where `result` is the
 * parsed `--format json` output (null if stdout was not JSON).
 * @param {Pick<ArduinoRig, 'arduinoCli' | 'configFile' | 'env'>} rig
 * @param {{ fqbn?: string, sketchDir: string, buildPath?: string, extraArgs?: string[], wrap?: string[] }} options
 */
export async function compileSketch(
  rig,
  { fqbn = 'arduino:avr:uno', sketchDir, buildPath, extraArgs = [], wrap = [] },
) {
  const args = ['--config-file', rig.configFile, 'compile', '--fqbn', fqbn, '--format', 'json', ...extraArgs];
  if (buildPath) args.push('--build-path', buildPath);
  args.push(sketchDir);
  const [cmd, ...pre] = [...wrap, rig.arduinoCli];
  const t0 = performance.now();
  const r = await run(cmd, [...pre, ...args], { env: rig.env, timeoutMs: 300_000 });
  const seconds = (performance.now() - t0) / 1000;
  /** @type {any} */
  let result = null;
  try {
    result = JSON.parse(r.stdout);
  } catch {
    // leave null; the caller sees stdout in the error it builds
  }
  return { code: r.code, result, stdout: r.stdout, stderr: r.stderr, seconds };
}

async function selfTest() {
  const { ensureDebianPackages } = await import('../services/apt.js');
  await ensureDebianPackages(RIG_DEBIAN_PACKAGES);
  const cacheDir = defaultRigCache();
  let t0 = performance.now();
  const rig = await ensureArduinoRig({ cacheDir });
  const { env: _env, ...shown } = rig;
  console.log(`ensureArduinoRig #1: ${((performance.now() - t0) / 1000).toFixed(2)} s`, shown);
  t0 = performance.now();
  await ensureArduinoRig({ cacheDir, log: () => {} });
  console.log(`ensureArduinoRig #2 (cached): ${((performance.now() - t0) / 1000).toFixed(2)} s`);

  // Prove "offline": run the compiles in a network namespace with no network, when we may.
  const canUnshare = (await run('unshare', ['-n', 'true']).catch(() => ({ code: 1 }))).code === 0;
  const wrap = canUnshare ? ['unshare', '-n'] : [];
  console.log(
    canUnshare
      ? 'compiling inside `unshare -n` (no network at all)'
      : 'unshare -n unavailable: compiling with the network present',
  );

  const work = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-rig-'));
  try {
    const blink = path.join(work, 'Blink');
    mkdirSync(blink);
    writeFileSync(
      path.join(blink, 'Blink.ino'),
      'void setup() { pinMode(LED_BUILTIN, OUTPUT); }\n' +
        'void loop() { digitalWrite(LED_BUILTIN, HIGH); delay(500); digitalWrite(LED_BUILTIN, LOW); delay(500); }\n',
    );
    const buildPath = path.join(work, 'build-uno');
    for (const label of ['first compile in a new build path', 'second compile, same build path']) {
      const c = await compileSketch(rig, { sketchDir: blink, buildPath, wrap });
      if (c.code !== 0 || !c.result?.success) throw new Error(`blink (uno, ${label}) failed: ${c.stdout}${c.stderr}`);
      const hex = path.join(buildPath, 'Blink.ino.hex');
      const flash = c.result.builder_result.executable_sections_size.find(
        (/** @type {{ name: string }} */ s) => s.name === 'text',
      );
      console.log(
        `uno blink ${label}: ${c.seconds.toFixed(2)} s, ${statSync(hex).size} B .hex, ${flash.size}/${flash.max_size} B flash`,
      );
    }
    const nano = await compileSketch(rig, {
      fqbn: 'arduino:avr:nano',
      sketchDir: blink,
      buildPath: path.join(work, 'build-nano'),
      wrap,
    });
    if (nano.code !== 0 || !nano.result?.success) throw new Error(`blink (nano) failed: ${nano.stdout}${nano.stderr}`);
    console.log(`nano blink: ${nano.seconds.toFixed(2)} s`);

    const bad = path.join(work, 'Bad');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'Bad.ino'), 'void setup() {\n  pinMode(LED_BUILTIN, OUTPUT)\n}\nvoid loop() {}\n');
    const b = await compileSketch(rig, { sketchDir: bad, buildPath: path.join(work, 'build-bad'), wrap });
    const diag = b.result?.builder_result?.diagnostics?.[0];
    if (
      b.code === 0 ||
      b.result?.success !== false ||
      diag?.severity !== 'ERROR' ||
      diag.line !== 3 ||
      !diag.file.endsWith('Bad.ino')
    ) {
      throw new Error(`syntax error sketch: unexpected result: ${b.stdout}${b.stderr}`);
    }
    console.log(
      `syntax error: exit ${b.code}, diagnostic ${path.basename(diag.file)}:${diag.line}:${diag.column} ${diag.severity} ${diag.message.split('\n')[0]}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log('arduino rig self-test OK');
}

if (isMain(import.meta.url) && process.argv.includes('--self-test')) {
  await selfTest();
}
