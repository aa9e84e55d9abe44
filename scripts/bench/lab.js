// npm run bench:lab — the classroom flash station on emulated Unos (simavr + the real optiboot),
// through the core's contract (lab.create, lab.stationStart, lab.get, the lab.station events), with
// a real broker (Debian's Mosquitto, attached) and the real Secret Service:
// 1. 4 Unos plugged in at once vs 1 alone, same image (the build cache warmed first): median time
//    from plug-in to every board online over BENCH_RUNS runs, and the ratio (goal ≤ 1.3×);
// 2. a 30-board class in batches this machine can emulate (BENCH_BATCH at a time, 4 by default):
//    boards per hour including detection and the online check;
// 3. zero id mix-ups in that class: every board got its own seat's id, and on the broker every
//    telemetry message carries the id its topic names, each seat's id arrived, no other id did.
// Plug-in is the sysfs stand-in (MAKERDECK_SYSFS_ROOT): a USB device dir with idVendor/idProduct/
// serial and dev/ttyACMn linked to the Uno's pty. The flasher resets each Uno through the rig's DTR
// shim, which must be preloaded: the script runs itself again with it. The class run keeps one station
// running across batches, each plugged into the same ports as the last (BENCH_RESTART_PER_BATCH=1
// restarts it between batches instead).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { createJiti } from 'jiti';
import { ensureArduinoRig } from '../rig/arduino.js';
import { buildUnoRig, startEmulatedUno } from '../rig/uno.js';
import { startSecretService } from '../services/keyring.js';
import { startMosquitto } from '../services/mosquitto.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 4);
const CLASS = Number(process.env.BENCH_BOARDS ?? 30);
const BATCH = Number(process.env.BENCH_BATCH ?? 4);
const ONLINE_TIMEOUT_S = Number(process.env.BENCH_ONLINE_TIMEOUT_S ?? 90);
const ADMIN = 'bench-admin';
const CHILD = 'MAKERDECK_BENCH_LAB_CHILD';

/** @type {(values: number[]) => number} */
const median = (values) => /** @type {number} */ ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);
const seconds = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;

/** Runs this script again with the DTR shim preloaded; returns its exit code. */
async function relaunchWithShim() {
  const rig = await buildUnoRig();
  const env = {
    ...process.env,
    [CHILD]: '1',
    LD_PRELOAD: [rig.shim, process.env.LD_PRELOAD].filter(Boolean).join(':'),
  };
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { env, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** A USB hub stand-in under a copy of /sys: each plug is a board with its own USB serial number. */
class UsbHub {
  /** @param {string} root */
  constructor(root) {
    this.root = root;
    mkdirSync(path.join(root, 'class', 'tty'), { recursive: true });
    mkdirSync(path.join(root, 'dev'), { recursive: true });
  }

  /** Plugs a board into slot `slot`; returns its port path. @param {number} slot @param {string} pty @param {string} serial */
  plug(slot, pty, serial) {
    const usb = path.join(this.root, 'devices', 'usb1', `1-${slot + 1}`);
    mkdirSync(path.join(usb, `1-${slot + 1}:1.0`), { recursive: true });
    writeFileSync(path.join(usb, 'idVendor'), '2341\n');
    writeFileSync(path.join(usb, 'idProduct'), '0043\n');
    writeFileSync(path.join(usb, 'manufacturer'), 'Arduino (www.arduino.cc)\n');
    writeFileSync(path.join(usb, 'serial'), `${serial}\n`);
    const name = `ttyACM${slot}`;
    mkdirSync(path.join(this.root, 'class', 'tty', name), { recursive: true });
    symlinkSync(path.join(usb, `1-${slot + 1}:1.0`), path.join(this.root, 'class', 'tty', name, 'device'));
    symlinkSync(pty, path.join(this.root, 'dev', name));
    return path.join(this.root, 'dev', name);
  }

  /** @param {number} slot */
  unplug(slot) {
    const name = `ttyACM${slot}`;
    for (const gone of [
      path.join('class', 'tty', name),
      path.join('dev', name),
      path.join('devices', 'usb1', `1-${slot + 1}`),
    ])
      rmSync(path.join(this.root, gone), { recursive: true, force: true });
  }
}

/**
 * @typedef {{ ok: true, value: any } | { ok: false, error: { code: string, message: string } }} Reply
 * @typedef {{ call(name: string, args: unknown): Promise<Reply>, bus: { on(event: string, f: (v: any) => void): () => void } }} Host
 */

/** @param {Host} host @param {string} name @param {unknown} args */
async function call(host, name, args) {
  const reply = await host.call(name, args);
  if (!reply.ok) throw new Error(`${name}: ${reply.error.message}`);
  return reply.value;
}

/** Every telemetry message on the broker, as [topic, payload], seen by the bench's own subscriber. */
async function watchBroker(/** @type {string} */ url, /** @type {string} */ password) {
  const client = await mqtt.connectAsync(url, { username: ADMIN, password, protocolVersion: 4, reconnectPeriod: 0 });
  /** @type {Array<[string, string]>} */
  const seen = [];
  client.on('message', (topic, payload) => seen.push([topic, payload.toString()]));
  await client.subscribeAsync('makerdeck/+/telemetry', { qos: 1 });
  return { seen, stop: () => client.endAsync() };
}

/**
 * The mix-up check: each board its own id, and on the broker only those ids, each under its own topic.
 * @param {Array<{ serial: string, deviceId?: string, state?: string }>} boards
 * @param {Array<[string, string]>} seen
 * @param {(line: string) => { ok: boolean, point?: { tags: Map<string, string> } }} parse
 */
function mixUps(boards, seen, parse) {
  const problems = [];
  const ids = boards.map((b) => b.deviceId);
  for (const board of boards) {
    if (!board.deviceId) problems.push(`board ${board.serial} got no id`);
    else if (ids.filter((id) => id === board.deviceId).length > 1) problems.push(`id ${board.deviceId} given twice`);
    if (board.state !== 'online') problems.push(`board ${board.serial} (${board.deviceId}) ended ${board.state}`);
  }
  const heard = new Set();
  for (const [topic, payload] of seen) {
    const topicId = topic.split('/')[1];
    for (const line of payload.split('\n').filter((l) => l.trim() !== '')) {
      const parsed = parse(line);
      const tagged = parsed.ok ? parsed.point?.tags.get('device') : undefined;
      if (tagged !== topicId) problems.push(`${topic} carried a point of ${tagged ?? 'no id'}`);
      else if (!ids.includes(tagged)) problems.push(`${tagged} published, but no board was given that id`);
      else heard.add(tagged);
    }
  }
  for (const id of ids) if (id && !heard.has(id)) problems.push(`${id}: no telemetry on the broker`);
  return problems;
}

/** CPU seconds a process has used so far (utime + stime), from /proc. @param {number} pid */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ 100 on Linux)
  } catch {
    return 0;
  }
}

/**
 * One station run: `boards` Unos in batches of `batch`, plugged in together. Per board: the time from
 * its batch's plug-in to its result, and its write phase (from the lab.station events); per run: the
 * time the station was busy (plug-in to the batch's last result, summed), the emulators' CPU use, and
 * how many emulators fell behind real time. With `observe`, each batch stays plugged in until the
 * broker watcher has 3 messages from each of its boards (not counted as busy time).
 * @param {{ host: Host, hub: UsbHub, dir: string, lab: string, boards: number, batch: number, parallel: number,
 *   observe?: (ids: string[]) => Promise<void>, restartPerBatch?: boolean }} run
 */
async function stationRun({ host, hub, dir, lab, boards, batch, parallel, observe, restartPerBatch }) {
  await call(host, 'lab.create', {
    name: lab,
    board: 'arduino:avr:uno',
    template: 'bench-template',
    idPattern: `${lab}-{nn}`,
    seats: boards,
  });
  /** @type {Map<string, Map<string, number>>} port → phase → first time seen */
  const phases = new Map();
  const unsubscribe = host.bus.on(
    'lab.station',
    (/** @type {{ lab: string, ports: Array<{ port: string, phase: string }> }} */ view) => {
      for (const port of view.ports) {
        const seen = phases.get(port.port) ?? new Map();
        phases.set(port.port, seen);
        if (!seen.has(port.phase)) seen.set(port.phase, performance.now());
      }
    },
  );
  await call(host, 'lab.stationStart', { lab, parallel, onlineTimeoutS: ONLINE_TIMEOUT_S });
  /** @type {Array<{ serial: string, deviceId?: string, state?: string, reason?: string, ms: number, writeMs?: number }>} */
  const results = [];
  let busyMs = 0;
  let cpu = 0;
  let behind = 0;
  try {
    for (let first = 0; first < boards; first += batch) {
      const count = Math.min(batch, boards - first);
      const unos = await Promise.all(
        Array.from({ length: count }, (_, i) => startEmulatedUno({ dir: path.join(dir, `${lab}-uno-${first + i}`) })),
      );
      if (restartPerBatch && first > 0) {
        // A running station sometimes misses boards replugged into the same ports (see the bench's notes).
        await call(host, 'lab.stationStop', { lab });
        await call(host, 'lab.stationStart', { lab, parallel, onlineTimeoutS: ONLINE_TIMEOUT_S });
      }
      // The shim signals every listed harness; each acts only on its own pty.
      process.env.MAKERDECK_UNO_HARNESS_PID = unos.map((u) => u.pid).join(',');
      const serials = unos.map((_, i) => `BENCH${lab.toUpperCase()}${String(first + i).padStart(3, '0')}`);
      const cpuBefore = unos.map((uno) => cpuSeconds(uno.pid));
      phases.clear();
      const plugged = performance.now();
      const ports = unos.map((uno, slot) => hub.plug(slot, uno.device, /** @type {string} */ (serials[slot])));
      const done = await waitForSeats(host, lab, serials, ONLINE_TIMEOUT_S * 1000 + 120_000);
      busyMs += performance.now() - plugged;
      cpu += unos.reduce((sum, uno, i) => sum + cpuSeconds(uno.pid) - (cpuBefore[i] ?? 0), 0);
      serials.forEach((serial, slot) => {
        const seen = phases.get(/** @type {string} */ (ports[slot]));
        const write = seen?.get('write');
        const booted = seen?.get('boot');
        const result = seen?.get('online') ?? seen?.get('silent') ?? seen?.get('failed') ?? performance.now();
        const writeMs = write && booted ? booted - write : undefined;
        results.push({ serial, ...done.get(serial), ms: result - plugged, writeMs });
      });
      if (observe) await observe(serials.map((serial) => done.get(serial)?.deviceId ?? ''));
      behind += unos.filter((uno) => /fell \d+ ms behind real time/.test(uno.log())).length;
      unos.forEach((_, slot) => hub.unplug(slot));
      await Promise.all(unos.map((uno) => uno.stop()));
    }
  } finally {
    unsubscribe();
    await host.call('lab.stationStop', { lab });
  }
  return { busyMs, results, cpuPerSecond: cpu / (busyMs / 1000), behind };
}

/**
 * Waits until every board (by USB serial) has a seat that ended online, silent or failed.
 * @param {Host} host @param {string} lab @param {string[]} serials @param {number} timeoutMs
 * @returns {Promise<Map<string, { deviceId: string, state: string, reason?: string }>>}
 */
async function waitForSeats(host, lab, serials, timeoutMs) {
  for (const end = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    /** @type {{ seats: Array<{ deviceId: string, state: string, reason?: string, identity?: { usbSerial?: string } }> }} */
    const view = await call(host, 'lab.get', { lab });
    const found = new Map();
    for (const seat of view.seats) {
      const serial = seat.identity?.usbSerial;
      if (serial && serials.includes(serial) && ['online', 'silent', 'failed'].includes(seat.state))
        found.set(serial, { deviceId: seat.deviceId, state: seat.state, reason: seat.reason });
    }
    if (found.size === serials.length) return found;
    if (Date.now() > end) {
      /** @type {{ ports: Array<{ port: string, phase: string, deviceId?: string, reason?: string, message?: string }> }} */
      const station = await call(host, 'lab.stationStatus', { lab });
      const ports = station.ports.map(
        (p) => `${p.port} ${p.deviceId ?? '-'} ${p.phase} ${p.reason ?? p.message ?? ''}`,
      );
      throw new Error(
        `${lab}: ${serials.length - found.size} boards not done in ${timeoutMs / 1000} s; ${ports.join('; ')}`,
      );
    }
  }
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-lab-'));
  const keyring = await startSecretService({ dir: path.join(dir, 'keyring') });
  const password = randomBytes(12).toString('hex');
  const broker = await startMosquitto({ dir: path.join(dir, 'broker'), users: { [ADMIN]: password } });
  try {
    const rig = await ensureArduinoRig({ log: () => {} });
    const hub = new UsbHub(path.join(dir, 'sys'));
    // The keyring library and the port lister read this process's environment.
    Object.assign(process.env, keyring.env, {
      MAKERDECK_DATA_DIR: path.join(dir, 'data'),
      MAKERDECK_CACHE_DIR: path.join(dir, 'cache'),
      MAKERDECK_ARDUINO_CLI: rig.arduinoCli,
      MAKERDECK_ARDUINO_CLI_CONFIG: rig.configFile,
      MAKERDECK_SYSFS_ROOT: hub.root,
    });
    // jiti, as the tests' child processes use: a dependency's ESM files import each other without extensions.
    const jiti = createJiti(import.meta.url);
    const { createHost } = /** @type {typeof import('../../electron/core/host')} */ (
      await jiti.import(path.join(root, 'electron/core/host.ts'))
    );
    const { parseLineProtocol } = /** @type {typeof import('../../electron/core/lineProtocol')} */ (
      await jiti.import(path.join(root, 'electron/core/lineProtocol.ts'))
    );
    const host = /** @type {Host} */ (
      /** @type {unknown} */ (createHost({ kind: 'cli', quiet: true, dataDir: path.join(dir, 'data') }))
    );
    const environment = {
      kind: 'attached',
      mqttUrl: broker.url,
      mqttUsername: ADMIN,
      influxUrl: 'http://127.0.0.1:9',
      influxDatabase: 'makerdeck',
    };
    await call(host, 'environment.set', { environment, secrets: { mqttPassword: password } });
    const template = { name: 'Bench Template', board: 'arduino:avr:uno', deviceId: 'template', telemetryIntervalS: 1 };
    await call(host, 'profiles.save', { fields: template, secrets: {} });
    const compiled = performance.now();
    await call(host, 'firmware.compile', { board: 'arduino:avr:uno' }); // the one build every board gets
    console.log(
      `bench:lab — emulated Unos (simavr + optiboot), Mosquitto attached; build ${seconds(performance.now() - compiled)}`,
    );

    // 1. Four at once vs one alone, plug-in to online.
    /** @type {Record<number, { online: number[], write: number[], cpu: number[], behind: number }>} */
    const runs = {
      1: { online: [], write: [], cpu: [], behind: 0 },
      [PARALLEL]: { online: [], write: [], cpu: [], behind: 0 },
    };
    for (let run = 0; run < RUNS; run++) {
      for (const boards of [1, PARALLEL]) {
        const lab = `p${boards}r${run}`;
        const result = await stationRun({ host, hub, dir, lab, boards, batch: boards, parallel: boards });
        const failed = result.results.filter((r) => r.state !== 'online');
        // A board that did not come online is reported with its reason; its run does not count.
        for (const r of failed) console.log(`  ${lab}: ${r.deviceId} ${r.state}: ${r.reason ?? '?'}`);
        if (failed.length > 0) continue;
        const record = /** @type {{ online: number[], write: number[], cpu: number[], behind: number }} */ (
          runs[boards]
        );
        record.online.push(Math.max(...result.results.map((r) => r.ms)));
        record.write.push(Math.max(...result.results.map((r) => r.writeMs ?? 0)));
        record.cpu.push(result.cpuPerSecond);
        record.behind += result.behind;
      }
    }
    const one = /** @type {{ online: number[], write: number[], cpu: number[], behind: number }} */ (runs[1]);
    const many = /** @type {{ online: number[], write: number[], cpu: number[], behind: number }} */ (runs[PARALLEL]);
    if (RUNS > 0) {
      const ratio = median(many.online) / median(one.online);
      const counted = `${one.online.length} and ${many.online.length} of ${RUNS} runs with every board online`;
      console.log(`medians over ${counted}; this machine: ${os.cpus().length} cores`);
      console.log(
        `1 board alone:     ${seconds(median(one.online))} plug-in to online, write ${seconds(median(one.write))}`,
      );
      console.log(
        `${PARALLEL} boards at once:  ${seconds(median(many.online))} plug-in to all online, slowest write ${seconds(median(many.write))}`,
      );
      console.log(`ratio:             ${ratio.toFixed(2)}× (goal ≤ 1.30×) ${ratio <= 1.3 ? 'met' : 'NOT met'}`);
      console.log(
        `emulators:         ${median(one.cpu).toFixed(2)} vs ${median(many.cpu).toFixed(2)} CPU-s per s; ` +
          `fell behind real time: ${one.behind} of ${RUNS} single, ${many.behind} of ${RUNS * PARALLEL} parallel`,
      );
    }

    // 2 + 3. A class of CLASS boards in batches, on the broker's record.
    const watch = await watchBroker(broker.url, password);
    /** Until each id has 3 messages on the broker (or 15 s): its telemetry is checked, not only its first point. */
    const observe = async (/** @type {string[]} */ ids) => {
      const count = (/** @type {string} */ id) =>
        watch.seen.filter(([topic]) => topic === `makerdeck/${id}/telemetry`).length;
      for (const end = Date.now() + 15_000; Date.now() < end && !ids.every((id) => count(id) >= 3);)
        await new Promise((resolve) => setTimeout(resolve, 100));
    };
    const lab = 'class';
    const parallel = Math.min(BATCH, PARALLEL);
    const restartPerBatch = process.env.BENCH_RESTART_PER_BATCH === '1';
    const result = await stationRun({
      host,
      hub,
      dir,
      lab,
      boards: CLASS,
      batch: BATCH,
      parallel,
      observe,
      restartPerBatch,
    });
    await watch.stop();
    const perHour = (CLASS / result.busyMs) * 3_600_000;
    const online = result.results.filter((r) => r.state === 'online').length;
    console.log(
      `${CLASS}-board class in batches of ${BATCH}: ${online}/${CLASS} online, station busy ${seconds(result.busyMs)}: ` +
        `${perHour.toFixed(0)} boards per hour (detection, release, flash, boot check, online check)`,
    );
    const problems = mixUps(result.results, watch.seen, (line) => parseLineProtocol(line));
    console.log(`id mix-ups: ${problems.length} (${watch.seen.length} telemetry messages checked on the broker)`);
    for (const problem of problems.slice(0, 20)) console.log(`  ${problem}`);
    for (const r of result.results.filter((b) => b.state !== 'online'))
      console.log(`  ${r.deviceId}: ${r.reason ?? '?'}`);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    await broker.stop();
    await keyring.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env[CHILD]) {
  await main();
  process.exit(process.exitCode ?? 0); // the host's watchers would keep the process alive
} else {
  process.exit(await relaunchWithShim());
}
