// npm run bench:telemetry — QoS 0 telemetry (16 devices, 8 fields, line protocol) published to a
// real broker on loopback at full speed and at 1k, 10k and 50k msg/s, BENCH_STEP_S (20) seconds a
// step. In the same run a bare mqtt.js subscriber only counts (the ceiling of this machine) while
// Makerdeck (`makerdeck serve`, the built app, connected through its WebSocket API like the
// Telemetry page) ingests. Per broker (Mosquitto: the ceiling; RabbitMQ: the stack's broker) it
// prints published/s, bare and Makerdeck received/s, their ratio, messages missing (by sequence),
// CPU; publish-to-event latency at 1k/s; and resident memory over a BENCH_SOAK_S (600) s soak at
// 10k/s on Mosquitto (0 skips it). BENCH_BROKERS=mosquitto,rabbitmq picks brokers; BENCH_CPU_PROF=DIR
// has the serve process write a V8 CPU profile there (where Makerdeck's time goes). At the end it
// runs the renderer's frame bench, scripts/bench/telemetryRender.js (BENCH_RENDER=0 skips it).
import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { ensureDebianPackages } from '../services/apt.js';
import { startSecretService } from '../services/keyring.js';
import { startMosquitto } from '../services/mosquitto.js';
import { stopChild } from '../services/proc.js';
import { RABBITMQ_PACKAGES, startRabbitMQ } from '../services/rabbitmq.js';
import {
  call,
  cpuSeconds,
  machineBusySeconds,
  now,
  openTelemetryPage,
  processTree,
  root,
  rssMb,
  sleep,
  startServe,
  watchBatches,
} from './telemetry/makerdeck.js';

const STEP_S = Number(process.env.BENCH_STEP_S ?? 20);
const SOAK_S = Number(process.env.BENCH_SOAK_S ?? 600);
const BROKERS = (process.env.BENCH_BROKERS ?? 'mosquitto,rabbitmq').split(',');
const DEVICES = Array.from({ length: 16 }, (_, i) => `dev-${i + 1}`);
const PUBLISHERS = 2; // processes, 8 device connections each: one core can't feed a broker at full speed
const STEPS = [
  { name: 'full speed', rate: 0 },
  { name: '1k/s', rate: 1000 },
  { name: '10k/s', rate: 10_000 },
  { name: '50k/s', rate: 50_000 },
];
const RECV_GRACE_MS = 10_000; // after the publishers stop, wait at most this for stragglers

/**
 * @typedef {import('./telemetry/makerdeck.js').Serve} Serve
 * @typedef {import('./telemetry/makerdeck.js').Watch} Watch
 * @typedef {import('./telemetry/makerdeck.js').DeviceCount} DeviceCount
 * @typedef {import('mqtt').MqttClient} MqttClient
 * @typedef {ReturnType<typeof cpuSnapshot>} CpuSnapshot
 * @typedef {Record<string, number[]>} PidGroups
 * @typedef {{ name: string, rate: number }} Step
 * @typedef {Awaited<ReturnType<typeof runStep>> & { settle: number }} StepResult
 * @typedef {Awaited<ReturnType<typeof runSoak>>} SoakResult
 */
/**
 * What the helpers answer, by the key the bench waits for (see publisher.js and subscriber.js).
 * @typedef {{ ready: { ready: true }, done: { done: true, published: Record<string, number>, startedAt: number,
 *   endedAt: number }, count: { count: number }, report: { report: Record<string, DeviceCount>, stale: number } }}
 *   Replies
 */

const sum = (/** @type {number[]} */ values) => values.reduce((a, b) => a + b, 0);
/** @type {(sorted: number[], p: number) => number} */
const pct = (sorted, p) =>
  /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
const int = (/** @type {number} */ n) => Math.round(n).toLocaleString('en-US');

/**
 * A forked helper that answers IPC messages; `ask` sends one and resolves the first reply that has `key`.
 * @param {string} file
 */
function helper(file) {
  const child = fork(path.join(root, 'scripts', 'bench', 'telemetry', file), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  /** @type {{ key: keyof Replies, resolve: (reply: any) => void, reject: (error: Error) => void }[]} */
  const waiters = [];
  child.on('message', (message) => {
    const msg = /** @type {{ error?: string }} */ (message);
    if (msg.error) console.error(`${file}: ${msg.error}`);
    const at = waiters.findIndex((w) => w.key in msg);
    if (at >= 0) waiters.splice(at, 1)[0]?.resolve(msg);
  });
  child.once('exit', (code, signal) =>
    waiters.splice(0).forEach((w) => w.reject(new Error(`${file} exited with ${code ?? signal}`))),
  );
  /**
   * @template {keyof Replies} K
   * @param {object} msg
   * @param {K} key
   * @returns {Promise<Replies[K]>}
   */
  const ask = (msg, key) =>
    new Promise((resolve, reject) => {
      waiters.push({ key, resolve, reject });
      child.send(msg);
    });
  return { child, ask, stop: () => stopChild(child) };
}

/**
 * Waits until a process uses under 10% of a core for a second (a broker working off a backlog), at most 120 s; resolves the seconds waited.
 * @param {number} pid
 */
async function waitIdle(pid) {
  const started = Date.now();
  for (let i = 0; i < 120; i++) {
    const before = cpuSeconds(pid);
    await sleep(1000);
    if (cpuSeconds(pid) - before < 0.1) break;
  }
  return (Date.now() - started) / 1000;
}

/**
 * Connects Makerdeck to the broker and waits until a probe message shows up in its status.
 * @param {Serve} serve
 * @param {MqttClient} probe
 */
async function connectMakerdeck(serve, probe) {
  await call(serve, 'telemetry.connect', {});
  const device = `probe-${Math.random().toString(16).slice(2, 8)}`;
  for (const deadline = Date.now() + 15_000; ; await sleep(200)) {
    const status = await call(serve, 'telemetry.status', {});
    if (status.devices.some((d) => d.device === device)) return;
    if (Date.now() > deadline)
      throw new Error(
        `Makerdeck did not receive a probe within 15 s (broker ${status.broker.state} ${status.broker.message ?? ''})`,
      );
    if (status.broker.state === 'connected') probe.publish(`makerdeck/${device}/telemetry`, 'telemetry probe=1');
  }
}

/** CPU seconds so far of the machine and of this bench's process tree (brokers, Makerdeck, Chromium…). */
function cpuSnapshot() {
  return { t: now(), machine: machineBusySeconds(), tree: processTree() };
}

/**
 * CPU % of one core between two snapshots, per group of our processes, and for everything else on the machine.
 * @param {CpuSnapshot} a
 * @param {CpuSnapshot} b
 * @param {PidGroups} groups
 * @returns {{ [group: string]: number, page: number, bench: number, other: number }}
 */
function cpuBetween(a, b, groups) {
  const seconds = (b.t - a.t) / 1000;
  // a process gone by the end counts 0: its last CPU time is not known
  const used = (/** @type {number} */ pid) =>
    (b.tree.get(pid)?.cpu ?? a.tree.get(pid)?.cpu ?? 0) - (a.tree.get(pid)?.cpu ?? 0);
  const pct = (/** @type {number[]} */ pids) => (100 * sum(pids.map(used))) / seconds;
  // The Chromium showing the page: the browser process Playwright started, and its children.
  const browser = [...b.tree].find(([, p]) => p?.ppid === process.pid && /chrom/i.test(p.comm))?.[0];
  const page = browser ? [...processTree(browser).keys()] : [];
  return {
    ...Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, pct(pids)])),
    page: pct(page),
    bench: pct([process.pid]),
    // clamped: tick rounding makes an idle machine read a few % below zero
    other: Math.max(
      0,
      (100 * (b.machine - a.machine)) / seconds - pct([...new Set([...a.tree.keys(), ...b.tree.keys()])]),
    ),
  };
}

/**
 * Publishes `rate` msg/s (0: full speed) for `seconds`. `onStart(pids)` runs when all publishers are
 * connected, just before they go; `onEnd()` when all are done. The publishers stay connected (their
 * socket buffers still draining into the broker) until `stop()` of the result.
 * @param {string} url
 * @param {number} rate
 * @param {number} seconds
 * @param {(pids: number[]) => Promise<void>} onStart
 * @param {() => Promise<void>} onEnd
 */
async function publish(url, rate, seconds, onStart, onEnd) {
  const pubs = Array.from({ length: PUBLISHERS }, () => helper('publisher.js'));
  const stop = () => Promise.all(pubs.map((p) => p.stop()));
  try {
    const share = DEVICES.length / PUBLISHERS;
    await Promise.all(
      pubs.map((p, i) =>
        p.ask(
          {
            cmd: 'start',
            url,
            devices: DEVICES.slice(i * share, (i + 1) * share),
            rate: rate / PUBLISHERS,
            durationMs: seconds * 1000,
          },
          'ready',
        ),
      ),
    );
    await onStart(pubs.map((p) => /** @type {number} */ (p.child.pid)));
    const done = await Promise.all(pubs.map((p) => p.ask({ cmd: 'go' }, 'done')));
    await onEnd();
    /** @type {Record<string, number>} */
    const published = Object.assign({}, ...done.map((d) => d.published));
    const duration = (Math.max(...done.map((d) => d.endedAt)) - Math.min(...done.map((d) => d.startedAt))) / 1000;
    return { published, total: sum(Object.values(published)), duration, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Per device: published − received is what never arrived; gaps are the part lost mid-stream.
 * @param {Record<string, number>} published
 * @param {Record<string, DeviceCount>} received
 */
function missing(published, received) {
  return {
    missing: sum(DEVICES.map((d) => (published[d] ?? 0) - (received[d]?.count ?? 0))),
    gaps: sum(DEVICES.map((d) => received[d]?.gaps ?? 0)),
  };
}

/**
 * One step. `standIn` (when the Telemetry page could not be opened) takes every batch event in the
 * page's place and checks their seq values; with the page open, a batch watcher is connected only
 * at 1k/s, for the latency.
 * @param {{ broker: string, url: string, brokerPid: number, serve: Serve, standIn: Watch | undefined, probe: MqttClient,
 *   step: Step, settled: (seconds: number) => void }} options
 */
async function runStep({ broker, url, brokerPid, serve, standIn, probe, step, settled }) {
  const bare = helper('subscriber.js');
  let watch = standIn;
  /** @type {Awaited<ReturnType<typeof publish>> | undefined} */
  let pub;
  try {
    await bare.ask({ cmd: 'start', url, since: now() }, 'ready');
    await connectMakerdeck(serve, probe);
    watch ??= step.rate === 1000 ? await watchBatches(serve) : undefined;
    if (watch) watch.devices = new Map();
    if (watch) watch.latencies = step.rate === 1000 ? [] : undefined;
    /** @type {(CpuSnapshot & { accepted: number, rejected: number }) | undefined} */
    let start;
    /** @type {PidGroups | undefined} */
    let groups;
    /** @type {(CpuSnapshot & { accepted: number, bare: number }) | undefined} */
    let end;
    // The window: from "go" until the last publisher stopped publishing.
    pub = await publish(
      url,
      step.rate,
      STEP_S,
      async (pubPids) => {
        groups = {
          serve: [serve.pid],
          broker: [brokerPid],
          bare: [/** @type {number} */ (bare.child.pid)],
          pubs: pubPids,
        };
        const status = await call(serve, 'telemetry.status', {});
        start = { ...cpuSnapshot(), accepted: status.accepted, rejected: status.rejected };
      },
      async () => {
        const [status, { count }] = await Promise.all([
          call(serve, 'telemetry.status', {}),
          bare.ask({ cmd: 'count' }, 'count'),
        ]);
        end = { ...cpuSnapshot(), accepted: status.accepted, bare: count };
      },
    );
    if (!start || !end || !groups) throw new Error('publish() returned before its start and end callbacks ran');
    const seconds = (end.t - start.t) / 1000;
    // Stragglers: until neither count moved for a second (a broker with a backlog keeps them coming).
    let last = '';
    for (let quiet = 0, t = Date.now(); quiet < 4 && Date.now() - t < RECV_GRACE_MS; await sleep(250)) {
      const counts = `${(await bare.ask({ cmd: 'count' }, 'count')).count}/${(await call(serve, 'telemetry.status', {})).accepted}`;
      quiet = counts === last ? quiet + 1 : 0;
      last = counts;
    }
    const final = await call(serve, 'telemetry.status', {});
    const { report: bareReport, stale } = await bare.ask({ cmd: 'report' }, 'report');
    const inEvents = standIn ? [...standIn.devices.values()] : undefined;
    const latencies = watch?.latencies?.sort((a, b) => a - b);
    const accepted = final.accepted - start.accepted;
    return {
      broker,
      step: step.name,
      rate: step.rate,
      published: pub.total,
      pubRate: pub.total / pub.duration,
      bareRate: end.bare / seconds,
      mkdRate: (end.accepted - start.accepted) / seconds,
      bare: missing(pub.published, bareReport),
      // Makerdeck's missing: published − accepted; gaps from the seq values in the batch events.
      mkd: {
        missing: pub.total - accepted,
        gaps: inEvents && sum(inEvents.map((d) => d.gaps)),
        accepted,
        inEvents: inEvents && sum(inEvents.map((d) => d.count)),
      },
      rejected: final.rejected - start.rejected,
      stale,
      cpu: cpuBetween(start, end, groups),
      latency: latencies?.length
        ? {
            n: latencies.length,
            p50: pct(latencies, 50),
            p95: pct(latencies, 95),
            max: /** @type {number} */ (latencies.at(-1)),
          }
        : undefined,
    };
  } finally {
    await pub?.stop();
    if (watch && watch !== standIn) watch.close();
    if (watch) watch.latencies = undefined;
    await bare.stop();
    await call(serve, 'telemetry.disconnect', {}).catch(() => {});
    // A broker still working off this step's backlog would slow the next one, or deliver into it.
    settled(await waitIdle(brokerPid));
  }
}

/**
 * 10k/s for SOAK_S seconds; the serve process's RSS every 10 s.
 * @param {{ url: string, serve: Serve, probe: MqttClient }} options
 */
async function runSoak({ url, serve, probe }) {
  await connectMakerdeck(serve, probe);
  const samples = [{ t: 0, rss: rssMb(serve.pid) }];
  /** @type {number | undefined} */
  let t0;
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {number | undefined} */
  let accepted0;
  const pub = await publish(
    url,
    10_000,
    SOAK_S,
    async () => {
      accepted0 = (await call(serve, 'telemetry.status', {})).accepted;
      t0 = now();
      const started = now();
      t0 = started;
      timer = setInterval(() => samples.push({ t: (now() - started) / 1000, rss: rssMb(serve.pid) }), 10_000);
    },
    async () => clearInterval(timer),
  );
  await sleep(2000);
  await pub.stop();
  if (t0 === undefined || accepted0 === undefined) throw new Error('publish() returned before its start callback ran');
  samples.push({ t: (now() - t0) / 1000, rss: rssMb(serve.pid) });
  const accepted = (await call(serve, 'telemetry.status', {})).accepted - accepted0;
  await call(serve, 'telemetry.disconnect', {});
  // The rings fill in the first ~32 s (20,000 points per series at 625 points/s per device), and
  // their pages only become resident as they are written: the drift is measured from 60 s. RSS
  // saws up and down by tens of MB with V8's garbage collections, so the drift is that of a
  // least-squares line through the samples, not of two samples that may land on a peak and a trough.
  const warm = Math.min(60, SOAK_S / 2);
  const steady = samples.filter((s) => s.t >= warm);
  const n = steady.length;
  const [mt, mr] = [sum(steady.map((s) => s.t)) / n, sum(steady.map((s) => s.rss)) / n];
  const slope = sum(steady.map((s) => (s.t - mt) * (s.rss - mr))) / sum(steady.map((s) => (s.t - mt) ** 2)) || 0; // MB/s
  const [s0, sN] = /** @type {[{ t: number }, { t: number }]} */ ([steady[0], steady.at(-1)]);
  const first = { t: s0.t, rss: mr + slope * (s0.t - mt) };
  const last = { t: sN.t, rss: mr + slope * (sN.t - mt) };
  return {
    seconds: SOAK_S,
    before: /** @type {{ rss: number }} */ (samples[0]).rss,
    first,
    last,
    slope,
    min: Math.min(...steady.map((s) => s.rss)),
    max: Math.max(...steady.map((s) => s.rss)),
    drift: (last.rss - first.rss) / first.rss,
    samples,
    rate: accepted / pub.duration,
    missing: pub.total - accepted,
  };
}

let unwinding = Promise.resolve();
/**
 * Runs the stop functions pushed on `cleanup`, newest first, until `keep` are left; one run at a time.
 * @param {(() => unknown)[]} cleanup
 * @param {number} keep
 */
function unwind(cleanup, keep) {
  unwinding = unwinding.then(async () => {
    while (cleanup.length > keep)
      await Promise.resolve(/** @type {() => unknown} */ (cleanup.pop())()).catch((e) =>
        console.error(`cleanup: ${e.message}`),
      );
  });
  return unwinding;
}

/**
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 */
function makerdeckCli(args, env) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'makerdeck.js'), ...args], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`makerdeck ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

/**
 * @param {StepResult[]} results
 * @param {SoakResult | undefined} soak
 * @param {string} pageNote
 */
function report(results, soak, pageNote) {
  const goal = (/** @type {boolean} */ ok) => (ok ? 'met' : 'NOT met');
  const ratio = (/** @type {StepResult} */ r) => (r.mkdRate / r.bareRate).toFixed(2);
  console.log(
    `\nbench:telemetry — QoS 0, ${DEVICES.length} devices × 8 fields, ${STEP_S} s per step, ${os.cpus().length} cores, Node ${process.version}`,
  );
  console.log(`Makerdeck: makerdeck serve (the built app), ${pageNote}`);
  console.log(
    "rates: msg/s over the publish window (published = handed to the publishers' sockets). missing: published − received after",
  );
  console.log(
    '  ≤ 10 s of grace: still queued at or in the broker, or lost; gaps: the part lost mid-stream (QoS 0 keeps order).',
  );
  console.log(
    'CPU: % of one core over the window; pubs = the 2 publisher processes, bench = this script, other = the rest of the machine.',
  );
  const head = [
    'broker',
    'step',
    'published/s',
    'bare/s',
    'makerdeck/s',
    'ratio',
    'bare missing (gaps)',
    'mkd missing (gaps)',
    'rejected',
    'CPU serve',
    'page',
    'broker',
    'bare',
    'pubs',
    'bench',
    'other',
  ];
  const rows = results.map((r) => [
    r.broker,
    r.step,
    int(r.pubRate),
    int(r.bareRate),
    int(r.mkdRate),
    ratio(r),
    `${int(r.bare.missing)} (${int(r.bare.gaps)})`,
    `${int(r.mkd.missing)} (${r.mkd.gaps === undefined ? '–' : int(r.mkd.gaps)})`,
    int(r.rejected),
    ...['serve', 'page', 'broker', 'bare', 'pubs', 'bench', 'other'].map((k) =>
      /** @type {number} */ (r.cpu[k]).toFixed(0),
    ),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => /** @type {string} */ (row[i]).length)));
  const width = (/** @type {number} */ i) => /** @type {number} */ (widths[i]);
  for (const row of [head, ...rows])
    console.log(row.map((c, i) => (i < 2 ? c.padEnd(width(i)) : c.padStart(width(i)))).join('  '));

  console.log(
    "\npublish → telemetry.batch event at a WebSocket client, 1k/s (the event-to-pixel part is the render bench's):",
  );
  for (const r of results)
    if (r.latency)
      console.log(
        `  ${r.broker.padEnd(9)} p50 ${r.latency.p50.toFixed(1)} ms  p95 ${r.latency.p95.toFixed(1)} ms  max ${r.latency.max.toFixed(1)} ms  (${int(r.latency.n)} points)`,
      );
  if (soak) {
    console.log(
      `\nsoak (run first, on a fresh serve): 10k/s on Mosquitto for ${soak.seconds} s; serve RSS ${soak.before.toFixed(0)} MB before; from ${soak.first.t.toFixed(0)} s (rings filled)`,
    );
    console.log(
      `  min ${soak.min.toFixed(0)} MB, max ${soak.max.toFixed(0)} MB (garbage collections); trend line ${soak.first.rss.toFixed(0)} → ${soak.last.rss.toFixed(0)} MB (${(60 * soak.slope).toFixed(2)} MB/min): drift ${(100 * soak.drift).toFixed(1)}%`,
    );
    console.log(`  RSS every 10 s (MB): ${soak.samples.map((s) => s.rss.toFixed(0)).join(' ')}`);
    console.log(`  ingested ${int(soak.rate)}/s, missing ${int(soak.missing)}`);
  } else console.log('\nsoak: skipped (BENCH_SOAK_S=0, or Mosquitto not in BENCH_BROKERS)');

  console.log('\ngoals:');
  for (const r of results) {
    const kept = r.rejected === 0 && (r.mkd.inEvents === undefined || r.mkd.inEvents === r.mkd.accepted);
    const events = r.mkd.inEvents === undefined ? '' : `, in batch events ${int(r.mkd.inEvents)}`;
    console.log(
      `  ${r.broker.padEnd(9)} ${r.step.padEnd(10)} ingest ≥ 0.8× bare: ${goal(r.mkdRate >= 0.8 * r.bareRate).padEnd(7)} (${(r.mkdRate / r.bareRate).toFixed(3)});  lost nothing it received: ${goal(kept)} (rejected ${r.rejected}, accepted ${int(r.mkd.accepted)}${events})`,
    );
  }
  for (const r of results)
    if (r.latency)
      console.log(
        `  ${r.broker.padEnd(9)} latency p95 ≤ 100 ms at 1k/s: ${goal(r.latency.p95 <= 100)} (${r.latency.p95.toFixed(1)} ms, publish → event)`,
      );
  if (soak)
    console.log(
      `  memory flat within 10% over the soak: ${goal(Math.abs(soak.drift) <= 0.1)} (trend ${(100 * soak.drift).toFixed(1)}% from ${soak.first.t.toFixed(0)} s to ${soak.last.t.toFixed(0)} s)`,
    );
  const starved = results.filter((r) => r.bareRate < 0.5 * r.pubRate);
  if (starved.length)
    console.log(
      `\nnote: the bare subscriber got under half of what was published during ${starved.map((r) => `${r.broker} ${r.step}`).join(', ')}: delivery fell behind publishing and the broker queued (at full speed the publishers take CPU the broker and both subscribers need; RabbitMQ's MQTT plugin also starves subscribers while 16 publishers push), so the ratio says little about Makerdeck there.`,
    );
  const stale = results.filter((r) => r.stale > 0);
  if (stale.length)
    console.log(
      `\nnote: messages published before the step reached the bare subscriber during ${stale.map((r) => `${r.broker} ${r.step} (${int(r.stale)})`).join(', ')}: the broker was still delivering an earlier backlog; Makerdeck's figures there include them.`,
    );
  const slow = results.filter((r) => r.settle > 5);
  if (slow.length)
    console.log(
      `\nnote: the broker kept working after ${slow.map((r) => `${r.broker} ${r.step} for ${r.settle.toFixed(0)} s`).join(', ')} (a backlog), before the next step began.`,
    );
  const busy = results.filter((r) => r.cpu.other > 20);
  if (busy.length)
    console.log(
      `\nnote: other work used > 20% of a core during ${busy.map((r) => `${r.broker} ${r.step}`).join(', ')}: those figures are low.`,
    );
}

/**
 * Stop functions of everything started, newest last: run by the finally in main, or on Ctrl+C.
 * @type {(() => unknown)[]}
 */
const cleanup = [];

async function main() {
  if (!existsSync(path.join(root, 'out', 'main', 'cli.js'))) throw new Error('the app is not built: run npm run build');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mkd-bench-tel-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  /** @type {StepResult[]} */
  const results = [];
  let pageNote = 'the Telemetry page open in Chromium';
  /** @type {SoakResult | undefined} */
  let soak;
  try {
    const keyring = await startSecretService({ dir: path.join(dir, 'keyring') });
    cleanup.push(() => keyring.stop());
    for (const broker of BROKERS) {
      let svc;
      if (broker === 'mosquitto') svc = await startMosquitto({ dir: path.join(dir, 'mosquitto') });
      else if (broker === 'rabbitmq') {
        await ensureDebianPackages(RABBITMQ_PACKAGES);
        svc = await startRabbitMQ({ dir: path.join(dir, 'rabbitmq') });
      } else throw new Error(`unknown broker ${broker} in BENCH_BROKERS`);
      cleanup.push(() => svc.stop());
      console.error(`[bench] ${broker} at ${svc.url} (pid ${svc.pid})`);
      const env = { ...process.env, ...keyring.env, MAKERDECK_DATA_DIR: path.join(dir, `data-${broker}`) };
      makerdeckCli(
        ['env', 'attach', '--mqtt-url', svc.url, '--influx-url', 'http://127.0.0.1:9', '--influx-db', 'makerdeck'],
        env,
      );
      const prof = process.env.BENCH_CPU_PROF;
      const serve = await startServe(
        env,
        prof
          ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(prof)}`, `--cpu-prof-name=serve-${broker}.cpuprofile`]
          : [],
      );
      cleanup.push(() => stopChild(serve.child));
      const page = await openTelemetryPage(serve.url);
      /** @type {Watch | undefined} */
      let standIn;
      if (page.close) cleanup.push(() => page.close?.());
      else {
        pageNote = `no Telemetry page (${page.missing}): a WebSocket client took every batch event in its place`;
        const watch = await watchBatches(serve);
        standIn = watch;
        cleanup.push(() => watch.close());
      }
      const probe = await mqtt.connectAsync(svc.url, { clientId: `bench-probe-${process.pid}`, reconnectPeriod: 0 });
      cleanup.push(() => probe.endAsync());
      // The soak first, on a fresh Makerdeck: its memory, not the aftermath of the full-speed step.
      if (broker === 'mosquitto' && SOAK_S > 0) {
        console.error(`[bench] soak at 10k/s for ${SOAK_S} s`);
        soak = await runSoak({ url: svc.url, serve, probe });
      }
      for (const step of STEPS) {
        console.error(`[bench] ${broker} ${step.name} for ${STEP_S} s`);
        let settle = 0;
        const result = await runStep({
          broker,
          url: svc.url,
          brokerPid: svc.pid,
          serve,
          standIn,
          probe,
          step,
          settled: (s) => (settle = s),
        });
        results.push({ ...result, settle });
      }
      await unwind(cleanup, 2); // this broker's Makerdeck, page and broker go before the next one starts
    }
  } finally {
    await unwind(cleanup, 0);
  }
  report(results, soak, pageNote);
  const render = path.join(root, 'scripts', 'bench', 'telemetryRender.js');
  if (process.env.BENCH_RENDER === '0') console.log('\nrenderer frame metrics: skipped (BENCH_RENDER=0)');
  else if (existsSync(render)) {
    console.log('\nrenderer frame metrics (scripts/bench/telemetryRender.js):');
    await new Promise((resolve) => spawn(process.execPath, [render], { stdio: 'inherit' }).once('exit', resolve));
  } else console.log('\nrenderer frame metrics: scripts/bench/telemetryRender.js does not exist yet');
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    console.error(`bench:telemetry: ${signal}, stopping what it started`);
    unwind(cleanup, 0).finally(() => process.exit(130));
  });
}

main().catch((error) => {
  console.error(`bench:telemetry: ${error.stack ?? error.message}`);
  process.exit(1);
});
