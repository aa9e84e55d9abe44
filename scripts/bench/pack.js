// npm run bench:pack — the size of an AVR-only lab pack: arduino-cli for this machine, the AVR core
// with its toolchain and the firmware builds. Offline, the core is the rig's board package (Debian's
// AVR core and gcc-avr toolchain as `makerdeckavr:avr`, scripts/rig/boardIndex.js), installed from a
// folder into a private arduino-cli data folder; the firmware is compiled for it; then
// `makerdeck pack create` writes the pack. Prints each part's size, the total and the time taken,
// against the goal: at most 150 MB (10^6 bytes) compressed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureArduinoRig } from '../rig/arduino.js';
import { ensureBoardPackage, writeOfflineFolder } from '../rig/boardIndex.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const GOAL_BYTES = 150e6;
const CORE = 'makerdeckavr:avr';

/**
 * Runs the built CLI with --json; resolves its parsed stdout, rejects with its stderr on a non-zero exit.
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<any>}
 */
function makerdeck(args, env) {
  return new Promise((resolve, reject) => {
    const bin = path.join(root, 'bin', 'makerdeck.js');
    const child = spawn(process.execPath, [bin, ...args, '--json'], { env: { ...process.env, ...env } });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null'));
      else
        reject(
          new Error(`makerdeck ${args.slice(0, 2).join(' ')} exited ${code}: ${(stdout + stderr).trim().slice(-400)}`),
        );
    });
    child.stdin.end();
  });
}

/**
 * A private arduino-cli configuration with empty data and downloads folders under `home`.
 * @param {string} home
 */
function freshConfig(home) {
  const q = (/** @type {string} */ p) => JSON.stringify(path.join(home, p));
  mkdirSync(path.join(home, 'data'), { recursive: true });
  writeFileSync(path.join(home, 'data', 'package_index.json'), '{"packages":[]}\n');
  writeFileSync(path.join(home, 'data', 'library_index.json'), '{"libraries":[]}\n');
  const file = path.join(home, 'arduino-cli.yaml');
  writeFileSync(
    file,
    `board_manager:\n  additional_urls: []\ndirectories:\n  data: ${q('data')}\n  downloads: ${q('downloads')}\n` +
      `  user: ${q('user')}\nbuild_cache:\n  path: ${q('build-cache')}\nmetrics:\n  enabled: false\n` +
      `updater:\n  enable_notification: false\n`,
  );
  return file;
}

const mb = (/** @type {number} */ bytes) =>
  (bytes < 1e5 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`).padStart(10);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-pack-'));
  try {
    const rig = await ensureArduinoRig({ log: () => {} });
    const board = await ensureBoardPackage({ log: () => {} });
    const env = {
      MAKERDECK_DATA_DIR: path.join(dir, 'data'),
      MAKERDECK_CACHE_DIR: path.join(dir, 'cache'),
      MAKERDECK_ARDUINO_CLI: rig.arduinoCli,
      MAKERDECK_ARDUINO_CLI_CONFIG: freshConfig(path.join(dir, 'arduino')),
    };
    const folder = path.join(dir, 'offline-folder');
    writeOfflineFolder(board, folder);
    await makerdeck(['boards', 'install', '--from', folder], env);
    const compiled = await makerdeck(['compile', '--board', `${CORE}:uno`], env);
    if (!compiled.success) throw new Error(`the firmware did not build: ${compiled.error}`);
    const file = path.join(dir, 'avr.mdpack');
    const summary = await makerdeck(['pack', 'create', file, '--core', CORE, '--builds', 'all'], env);
    console.log(`bench:pack — AVR-only lab pack (arduino-cli ${rig.version}, ${CORE}, firmware builds)`);
    for (const part of summary.parts)
      console.log(`${part.id.padEnd(36)} ${(part.version ?? '').padEnd(8)} ${mb(part.bytes)}`);
    const verdict = summary.bytes <= GOAL_BYTES ? 'within' : 'OVER';
    console.log(
      `${'total (the .mdpack file)'.padEnd(45)} ${mb(summary.bytes)}  ${verdict} the goal of ${mb(GOAL_BYTES).trim()}`,
    );
    console.log(`written in ${(summary.ms / 1000).toFixed(1)} s`);
    process.exitCode = summary.bytes <= GOAL_BYTES ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench:pack: ${error.message}`);
  process.exit(1);
});
