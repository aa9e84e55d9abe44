// The ESP32 rig: Espressif's QEMU machine running the real ESP32 mask ROM in serial download mode,
// built from the shared rig folder (its README.md, build.sh, boot.sh), plus PyPI's esptool 4.8.1 in a
// venv as the reference flasher (and the source of its legacy flasher stub, which this emulator runs).
//
//   node scripts/rig/esp32Qemu.js     builds (or finds) both and prints where they are
//
// Everything lands in <rig cache>/esp32-qemu; a second call takes well under a second.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain, run, sleep } from '../services/proc.js';
import { defaultRigCache } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ESPTOOL_VERSION = '4.8.1';

/** build.sh's own list (it installs them itself when root); python3-venv also carries the esptool venv. */
export const ESP32_QEMU_DEBIAN_PACKAGES = [
  'build-essential',
  'pkg-config',
  'ninja-build',
  'meson',
  'python3',
  'python3-venv',
  'flex',
  'bison',
  'libglib2.0-dev',
  'libpixman-1-dev',
  'libgcrypt20-dev',
  'libslirp-dev',
  'libfdt-dev',
  'zlib1g-dev',
];

/** Where the rig folder may be, in order: $MAKERDECK_ESP32_QEMU_RIG, beside the checkout, /work/shared. */
export function esp32QemuRigCandidates(env = process.env) {
  const fromEnv = env.MAKERDECK_ESP32_QEMU_RIG ? [env.MAKERDECK_ESP32_QEMU_RIG] : [];
  return [...fromEnv, path.resolve(ROOT, '..', 'shared', 'rigs', 'esp32-qemu'), '/work/shared/rigs/esp32-qemu'];
}

/** The rig folder holding build.sh, boot.sh and the source tarball; throws naming every place looked. */
export function findEsp32QemuRig(env = process.env) {
  const candidates = esp32QemuRigCandidates(env);
  const found = candidates.find((dir) =>
    ['build.sh', 'boot.sh', 'qemu-esp32-src.tar.xz'].every((file) => existsSync(path.join(dir, file))),
  );
  if (found) return found;
  throw new Error(
    `the ESP32 QEMU rig (build.sh, boot.sh, qemu-esp32-src.tar.xz) is in none of: ${candidates.join(', ')}; ` +
      'set MAKERDECK_ESP32_QEMU_RIG to its folder',
  );
}

/**
 * Runs the rig's build.sh into `<cacheDir>/esp32-qemu` (about 3 minutes cold on 2 cores, instant when
 * cached) and returns the qemu-system-xtensa path it prints last.
 * @param {{ cacheDir?: string, rigDir?: string }} [opts]
 */
export async function buildEsp32Qemu({ cacheDir = defaultRigCache(), rigDir = findEsp32QemuRig() } = {}) {
  const result = await run('bash', [path.join(rigDir, 'build.sh'), path.join(cacheDir, 'esp32-qemu')], {
    timeoutMs: 1_800_000,
  });
  const qemu = result.stdout.trim().split('\n').pop() ?? '';
  if (result.code !== 0 || !existsSync(qemu)) {
    throw new Error(`the ESP32 QEMU build failed (exit ${result.code}): ${result.stderr.trim().slice(-1500)}`);
  }
  return { qemu, rigDir, bootScript: path.join(rigDir, 'boot.sh') };
}

/**
 * PyPI's esptool 4.8.1 in a venv under `<cacheDir>/esp32-qemu`; installed with pip the first time.
 * `legacyStub` is its ESP32 flasher stub (esptool-legacy-flasher-stub 1.3.0, GPL-2.0-or-later): the
 * tests load it at run time, it is never shipped with Makerdeck.
 * @param {{ cacheDir?: string }} [opts]
 */
export async function ensureEsptool({ cacheDir = defaultRigCache() } = {}) {
  const venv = path.join(cacheDir, 'esp32-qemu', `esptool-${ESPTOOL_VERSION}`);
  const python = path.join(venv, 'bin', 'python3');
  if (!(await installedVersion(python))) {
    const made = await run('python3', ['-m', 'venv', '--clear', venv]);
    if (made.code !== 0) throw new Error(`python3 -m venv failed: ${made.stderr.trim().slice(-500)}`);
    const pip = await run(python, ['-m', 'pip', 'install', '-q', `esptool==${ESPTOOL_VERSION}`], {
      timeoutMs: 600_000,
    });
    if (pip.code !== 0)
      throw new Error(`pip install esptool==${ESPTOOL_VERSION} failed: ${pip.stderr.trim().slice(-800)}`);
  }
  const version = await installedVersion(python);
  if (version !== ESPTOOL_VERSION) throw new Error(`the esptool venv at ${venv} holds esptool ${version}`);
  const legacyStub = path.join(sitePackages(venv), 'esptool', 'targets', 'stub_flasher', '1', 'esp32.json');
  JSON.parse(readFileSync(legacyStub, 'utf8')); // fails here, not in a test, when the wheel changed shape
  return { python, esptool: path.join(venv, 'bin', 'esptool.py'), legacyStub, version };
}

/** @param {string} python */
async function installedVersion(python) {
  if (!existsSync(python)) return undefined;
  const probe = await run(python, ['-c', 'import esptool; print(esptool.__version__)']);
  return probe.code === 0 ? probe.stdout.trim() : undefined;
}

/** @param {string} venv */
function sitePackages(venv) {
  const lib = path.join(venv, 'lib');
  const python = readdirSync(lib).find((name) => name.startsWith('python3'));
  if (!python) throw new Error(`no python3.* folder in ${lib}`);
  return path.join(lib, python, 'site-packages');
}

/**
 * Everything the ESP32 ROM tests need, as environment variables for them. Never throws: when the rig
 * cannot be made, MAKERDECK_ESP32_QEMU_MISSING says why and those tests fail with that reason.
 * @param {{ cacheDir?: string }} [opts]
 * @returns {Promise<Record<string, string>>}
 */
export async function esp32QemuTestEnv({ cacheDir = defaultRigCache() } = {}) {
  try {
    const { qemu, rigDir } = await buildEsp32Qemu({ cacheDir });
    const esptool = await ensureEsptool({ cacheDir });
    return {
      MAKERDECK_ESP32_QEMU: qemu,
      MAKERDECK_ESP32_QEMU_RIG: rigDir,
      MAKERDECK_ESPTOOL_PYTHON: esptool.python,
      MAKERDECK_ESPTOOL_LEGACY_STUB: esptool.legacyStub,
    };
  } catch (error) {
    return { MAKERDECK_ESP32_QEMU_MISSING: /** @type {Error} */ (error).message.split('\n')[0] ?? 'unknown' };
  }
}

/**
 * Boots the emulated ESP32 in download mode with the rig's boot.sh. `flash` is the 4 MiB SPI flash
 * file (all 0xff when new); after a flash it holds what the chip wrote. Stopped by its PID only.
 * @param {{ qemu: string, rigDir: string, dir: string, flash?: string }} opts
 */
export async function startEsp32({ qemu, rigDir, dir, flash = path.join(dir, 'flash.bin') }) {
  await fsp.mkdir(dir, { recursive: true });
  const booted = await run('bash', [path.join(rigDir, 'boot.sh'), qemu, flash, dir], { timeoutMs: 30_000 });
  const pidText = await fsp.readFile(path.join(dir, 'qemu.pid'), 'utf8').catch(() => '');
  const pid = Number(pidText.trim());
  const onExit = () => pid > 0 && signal(pid, 'SIGKILL');
  process.on('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    if (!(pid > 0) || !alive(pid)) return;
    signal(pid, 'SIGTERM');
    for (const end = Date.now() + 5000; alive(pid) && Date.now() < end;) await sleep(20);
    if (alive(pid)) signal(pid, 'SIGKILL');
    for (const end = Date.now() + 5000; alive(pid) && Date.now() < end;) await sleep(20);
  };
  if (booted.code !== 0) {
    await stop();
    throw new Error(`the emulated ESP32 did not boot: ${booted.stderr.trim().slice(-800)}`);
  }
  const serial = booted.stdout.trim().split('\n').pop() ?? '';
  const monitor = path.join(dir, 'monitor.sock');
  await waitForFile(monitor, 5000);
  return {
    pid,
    serial,
    flash,
    monitor,
    /** Puts the chip back into download mode, as BOOT held while pressing EN would. */
    reset: () => hmp(monitor, 'system_reset'),
    stop,
    alive: () => alive(pid),
    log: () => readFileSync(path.join(dir, 'qemu.log'), 'utf8'),
  };
}

/**
 * One command on QEMU's human monitor (HMP) socket; resolves with what it printed.
 * @param {string} socketPath
 * @param {string} command
 * @returns {Promise<string>}
 */
export function hmp(socketPath, command) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = '';
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`QEMU monitor did not answer '${command}' within 5 s`));
    }, 5000);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`QEMU monitor at ${socketPath}: ${error.message}`));
    });
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const prompts = text.split('(qemu) ').length - 1;
      if (!sent && prompts >= 1) {
        sent = true;
        socket.write(`${command}\n`);
      } else if (sent && prompts >= 2) {
        clearTimeout(timer);
        socket.end();
        resolve(text.slice(text.indexOf('(qemu) ') + 7, text.lastIndexOf('(qemu) ')));
      }
    });
  });
}

/** True while `pid` runs; a zombie (nobody reaped it yet) counts as gone. @param {number} pid */
function alive(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** @param {number} pid @param {NodeJS.Signals} name */
function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** @param {string} file @param {number} ms */
async function waitForFile(file, ms) {
  for (const end = Date.now() + ms; !existsSync(file); await sleep(20)) {
    if (Date.now() > end) throw new Error(`${file} did not appear within ${ms} ms`);
  }
}

if (isMain(import.meta.url)) {
  const started = Date.now();
  const { qemu, rigDir } = await buildEsp32Qemu();
  const esptool = await ensureEsptool();
  console.log(`rig folder   ${rigDir}`);
  console.log(`qemu         ${qemu}`);
  console.log(`esptool      ${esptool.version} (${esptool.python})`);
  console.log(`legacy stub  ${esptool.legacyStub}`);
  console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
