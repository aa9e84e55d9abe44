// npm run bench:stack — `makerdeck stack up --profile core` until all healthy, images present, 5
// runs (down between runs, data kept). Prints the median beside the slowest single service's own
// time to healthy (its container start to its first passing healthcheck): the floor when
// independent services start in parallel. Only services that depend on nothing count for the floor:
// Telegraf starts beside the broker and cannot be healthy (consuming) before the broker is up, so
// its own time includes the broker's start.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDockerd } from '../services/dockerd.js';
import { startSecretService } from '../services/keyring.js';
import { ensureStackImages } from '../rig/stackImages/cache.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SERVICES = ['rabbitmq', 'influxdb', 'telegraf'];
/** The core services with no depends_on in stack/compose.yaml. */
const INDEPENDENT = ['rabbitmq', 'influxdb'];
/** @type {(values: number[]) => number} */
const median = (values) => /** @type {number} */ ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);

function makerdeck(/** @type {string[]} */ args, /** @type {NodeJS.ProcessEnv} */ env) {
  const result = spawnSync(process.execPath, [path.join(root, 'bin', 'makerdeck.js'), ...args], {
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`makerdeck ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/**
 * A container's start and its first health_status: healthy event, in ms since the epoch (the engine
 * keeps only the last 5 checks in State.Health.Log, so a fast-checking service's first pass may be
 * gone from there by the time the stack is up).
 * @param {string} dockerHost
 * @param {string} service
 * @param {number} sinceMs
 * @returns {{ startedAt: number, healthyAt: number }}
 */
function healthTimes(dockerHost, service, sinceMs) {
  const name = `makerdeck-${service}-1`;
  const [info] = JSON.parse(spawnSync('docker', ['-H', dockerHost, 'inspect', name], { encoding: 'utf8' }).stdout);
  const events = spawnSync(
    'docker',
    [
      '-H',
      dockerHost,
      'events',
      '--since',
      (sinceMs / 1000).toFixed(3),
      '--until',
      (Date.now() / 1000).toFixed(3),
      '--filter',
      `container=${name}`,
      '--filter',
      'event=health_status',
      '--format',
      '{{json .}}',
    ],
    { encoding: 'utf8' },
  ).stdout;
  const healthy = events
    .split('\n')
    .filter(Boolean)
    .map((line) => /** @type {{ Action?: string, status?: string, timeNano: number }} */ (JSON.parse(line)))
    .find((e) => (e.Action ?? e.status) === 'health_status: healthy');
  return { startedAt: Date.parse(info.State.StartedAt), healthyAt: healthy ? healthy.timeNano / 1e6 : NaN };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-stack-'));
  const docker = await startDockerd({ dir: path.join(dir, 'docker') });
  const keyring = await startSecretService({ dir: path.join(dir, 'keyring') });
  const env = { ...process.env, ...keyring.env, DOCKER_HOST: docker.host, MAKERDECK_DATA_DIR: path.join(dir, 'data') };
  try {
    await ensureStackImages({ dockerHost: docker.host, log: () => {} });
    const totals = [];
    /** @type {number[]} */
    const floors = [];
    /** Where the time beyond the floor goes: before the first container starts, and after the last is healthy. */
    const overhead = { beforeFirstStart: /** @type {number[]} */ ([]), afterLastHealthy: /** @type {number[]} */ ([]) };
    const own = Object.fromEntries(SERVICES.map((s) => [s, /** @type {number[]} */ ([])]));
    for (let run = 0; run < RUNS; run++) {
      const since = Date.now();
      makerdeck(['stack', 'up', '--profile', 'core', '--json'], env);
      const ended = Date.now();
      totals.push(ended - since);
      const marks = SERVICES.map((s) => healthTimes(docker.host, s, since));
      const times = marks.map((m) => m.healthyAt - m.startedAt);
      SERVICES.forEach((s, i) => /** @type {number[]} */ (own[s]).push(/** @type {number} */ (times[i])));
      floors.push(Math.max(...INDEPENDENT.map((s) => /** @type {number} */ (times[SERVICES.indexOf(s)]))));
      overhead.beforeFirstStart.push(Math.min(...marks.map((m) => m.startedAt)) - since);
      overhead.afterLastHealthy.push(ended - Math.max(...marks.map((m) => m.healthyAt)));
      makerdeck(['stack', 'down'], env);
    }
    const total = median(totals);
    const floor = median(floors);
    console.log(`bench:stack — core profile (RabbitMQ, InfluxDB, Telegraf), images present, ${RUNS} runs, medians`);
    for (const s of SERVICES) {
      const note = INDEPENDENT.includes(s) ? '' : ' (waits for the broker)';
      console.log(
        `  ${s.padEnd(9)} own time to healthy ${(median(/** @type {number[]} */ (own[s])) / 1000).toFixed(2)} s${note}`,
      );
    }
    const runs = totals.map((t, i) => `${(t / 1000).toFixed(2)}/${((floors[i] ?? NaN) / 1000).toFixed(2)}`).join(', ');
    console.log(`  runs (up / slowest service, s): ${runs}`);
    const ms = (/** @type {number[]} */ values) => `${median(values).toFixed(0)} ms`;
    console.log(
      `  overhead: command start → first container started ${ms(overhead.beforeFirstStart)}; ` +
        `last service healthy → command exit ${ms(overhead.afterLastHealthy)}`,
    );
    console.log(
      `  up → all healthy ${(total / 1000).toFixed(2)} s; slowest single service ${(floor / 1000).toFixed(2)} s; ratio ${(total / floor).toFixed(2)} (goal ≤ 1.20)`,
    );
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
