// npm run bench:compile — `makerdeck compile` for an Uno with the rig's arduino-cli, offline: a cold
// build (empty core cache, new build path) and an incremental one right after it, 5 times each; prints
// the medians of the build time Makerdeck reports itself (its --json `ms`, no Node start-up in it) and
// their ratio. The speed goal: an incremental build takes under 0.8 of a cold one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureArduinoRig } from '../rig/arduino.js';
import { startSecretService } from '../services/keyring.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GOAL = 0.8;

/**
 * Runs the built CLI; resolves its stdout, rejects with its stderr on a non-zero exit.
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<string>}
 */
function makerdeck(args, env, input = '') {
  return new Promise((resolve, reject) => {
    const bin = path.join(root, 'bin', 'makerdeck.js');
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`makerdeck ${args[0]} exited ${code}: ${stderr.trim().slice(-400)}`));
    });
    child.stdin.end(input);
  });
}

/**
 * One build; returns the `ms` Makerdeck measured for it.
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<number>}
 */
async function compile(env) {
  const summary = JSON.parse(await makerdeck(['compile', '--profile', 'bench-compile', '--json'], env));
  if (!summary.success) throw new Error('the firmware did not build');
  return summary.ms;
}

/** @type {(values: number[]) => number} */
const median = (values) => /** @type {number} */ ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-compile-'));
  const keyring = await startSecretService({ dir: path.join(dir, 'keyring') });
  try {
    const rig = await ensureArduinoRig();
    const base = { ...keyring.env, MAKERDECK_DATA_DIR: path.join(dir, 'data'), MAKERDECK_ARDUINO_CLI: rig.arduinoCli };
    const fields = ['--board', 'arduino:avr:uno', '--ssid', 'lab', '--mqtt-host', 'localhost'];
    fields.push('--device-id', 'bench-compile');
    const secrets = ['--wifi-password', '--mqtt-password'];
    await makerdeck(['profile', 'set', 'Bench Compile', ...fields, ...secrets], base, 'bench-wifi\nbench-mqtt\n');
    console.log(`bench:compile — makerdeck compile for an Uno (rig arduino-cli ${rig.version}), ${RUNS} runs`);
    console.log('medians of the build time Makerdeck reports (--json ms)');
    /** @type {number[]} */
    const cold = [];
    /** @type {number[]} */
    const warm = [];
    for (let run = 0; run < RUNS; run++) {
      // Cold: an empty arduino-cli core cache and a new build path, so the core really compiles.
      const config = path.join(dir, `arduino-cli-${run}.yaml`);
      const coreCache = path.join(dir, `core-cache-${run}`);
      const rigConfig = readFileSync(rig.configFile, 'utf8');
      writeFileSync(config, rigConfig.replace(/(build_cache:\s*\n\s*path:\s*).*/, `$1"${coreCache}"`));
      const cache = path.join(dir, `cache-${run}`);
      const env = { ...base, MAKERDECK_ARDUINO_CLI_CONFIG: config, MAKERDECK_CACHE_DIR: cache };
      cold.push(await compile(env));
      warm.push(await compile(env));
    }
    const ratio = median(warm) / median(cold);
    const seconds = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(2)} s`;
    const [c, w] = [seconds(median(cold)), seconds(median(warm))];
    console.log(`cold ${c}   incremental ${w}   ratio ${ratio.toFixed(2)} (goal < ${GOAL})`);
    process.exitCode = ratio < GOAL ? 0 : 1;
  } finally {
    await keyring.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench:compile: ${error.message}`);
  process.exit(1);
});
