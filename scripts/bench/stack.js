// npm run bench:stack — `makerdeck stack up --profile core` until all healthy, images present, 5
// runs (down between runs, data kept). Prints the median beside the slowest single service's own
// time to healthy (its container start to its first passing healthcheck): the floor when
// independent services start in parallel.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDockerd } from '../services/dockerd.js';
import { startSecretService } from '../services/keyring.js';
import { ensureStackImages } from '../rig/stack-images.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SERVICES = ['rabbitmq', 'influxdb', 'telegraf'];
/** @type {(values: number[]) => number} */
const median = (values) => /** @type {number} */ ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);

function makerdeck(/** @type {string[]} */ args, /** @type {NodeJS.ProcessEnv} */ env) {
  const result = spawnSync(process.execPath, [path.join(root, 'bin', 'makerdeck.js'), ...args], { env, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`makerdeck ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/** A container's own time to healthy: from its start to the end of its first passing check. */
function ownTimeToHealthy(/** @type {string} */ dockerHost, /** @type {string} */ service) {
  const out = spawnSync('docker', ['-H', dockerHost, 'inspect', `makerdeck-${service}-1`], { encoding: 'utf8' }).stdout;
  const [info] = JSON.parse(out);
  const started = Date.parse(info.State.StartedAt);
  const passed = (info.State.Health?.Log ?? []).find((/** @type {{ ExitCode: number, End: string }} */ entry) => entry.ExitCode === 0);
  return passed ? Date.parse(passed.End) - started : NaN;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-stack-'));
  const docker = await startDockerd({ dir: path.join(dir, 'docker') });
  const keyring = await startSecretService({ dir: path.join(dir, 'keyring') });
  const env = { ...process.env, ...keyring.env, DOCKER_HOST: docker.host, MAKERDECK_DATA_DIR: path.join(dir, 'data') };
  try {
    await ensureStackImages({ dockerHost: docker.host, log: () => {} });
    const totals = [];
    const floors = [];
    const own = Object.fromEntries(SERVICES.map((s) => [s, /** @type {number[]} */ ([])]));
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      makerdeck(['stack', 'up', '--profile', 'core', '--json'], env);
      totals.push(performance.now() - started);
      const times = SERVICES.map((s) => ownTimeToHealthy(docker.host, s));
      SERVICES.forEach((s, i) => /** @type {number[]} */ (own[s]).push(/** @type {number} */ (times[i])));
      floors.push(Math.max(...times));
      makerdeck(['stack', 'down'], env);
    }
    const total = median(totals);
    const floor = median(floors);
    console.log(`bench:stack — core profile (RabbitMQ, InfluxDB, Telegraf), images present, ${RUNS} runs, medians`);
    for (const s of SERVICES) console.log(`  ${s.padEnd(9)} own time to healthy ${(median(/** @type {number[]} */ (own[s])) / 1000).toFixed(2)} s`);
    console.log(`  up → all healthy ${(total / 1000).toFixed(2)} s; slowest single service ${(floor / 1000).toFixed(2)} s; ratio ${(total / floor).toFixed(2)} (goal ≤ 1.20)`);
  } finally {
    spawnSync(process.execPath, [path.join(root, 'bin', 'makerdeck.js'), 'stack', 'reset', '--yes'], { env });
    await keyring.stop();
    await docker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench:stack: ${error.message}`);
  process.exit(1);
});
