// Makerdeck's side of bench:telemetry: the built app as `makerdeck serve`, its WebSocket API
// (calls, and the batch events the Telemetry page gets), and CPU and memory figures from /proc.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

/**
 * @typedef {import('../../../electron/contract').RequestName} RequestName
 * @typedef {{ child: import('node:child_process').ChildProcess, pid: number, url: string, port: number,
 *   token: string }} Serve
 * @typedef {{ count: number, gaps: number, maxSeq: number }} DeviceCount
 * @typedef {{ devices: Map<string, DeviceCount>, latencies: number[] | undefined, close: () => void }} Watch
 * @typedef {{ comm: string, ppid: number, cpu: number }} ProcessInfo
 */

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const now = () => performance.timeOrigin + performance.now();
/** @type {(ms: number) => Promise<void>} */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * `makerdeck serve --port 0 --json`; resolves { child, pid, url, port, token } once it printed its
 * URL. Through setpriv --pdeathsig (an exec: same PID), so it ends with the bench even on a crash.
 * @param {NodeJS.ProcessEnv} env
 * @param {string[]} [nodeArgs]
 * @returns {Promise<Serve>}
 */
export async function startServe(env, nodeArgs = []) {
  const args = [
    '--pdeathsig',
    'TERM',
    '--',
    process.execPath,
    ...nodeArgs,
    path.join(root, 'bin', 'makerdeck.js'),
    'serve',
    '--port',
    '0',
    '--json',
  ];
  const child = spawn('setpriv', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const line = await new Promise((resolve, reject) => {
    let out = '';
    const onData = (/** @type {Buffer} */ d) => {
      out += d;
      if (!out.includes('\n')) return;
      child.stdout.off('data', onData);
      resolve(out.split('\n')[0]);
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`makerdeck serve exited with ${code}: ${stderr}`)));
  });
  child.stdout.resume(); // keep the pipe drained
  const { url, port } = JSON.parse(line);
  const token = /** @type {string} */ (new URLSearchParams(new URL(url).hash.slice(1)).get('token'));
  return { child, pid: /** @type {number} */ (child.pid), url, port, token };
}

/**
 * @param {Serve} serve
 * @returns {Promise<WebSocket>}
 */
function openSocket({ port, token }) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(token)}`);
  return new Promise((resolve, reject) => (ws.once('open', () => resolve(ws)), ws.once('error', reject)));
}

/**
 * One API call on a connection of its own, closed right after: every connection is sent every
 * event, so a client that stayed connected would add its own copy of each batch to Makerdeck's work.
 * @template {RequestName} N
 * @param {Serve} serve
 * @param {N} name
 * @param {import('../../../electron/contract').ArgsOf<N>} args
 * @returns {Promise<import('../../../electron/contract').ResultOf<N>>}
 */
export async function call(serve, name, args) {
  const ws = await openSocket(serve);
  try {
    ws.send(JSON.stringify({ type: 'call', id: 1, name, args }));
    const reply = await new Promise((resolve, reject) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.type === 'reply') resolve(frame.reply);
      });
      ws.once('close', () => reject(new Error(`${name}: the connection closed`)));
    });
    if (!reply.ok) throw new Error(`${name}: ${reply.error.message}`);
    return reply.value;
  } finally {
    ws.terminate();
  }
}

/**
 * A connection that takes every telemetry.batch event, as the Telemetry page does, and keeps per
 * device the seq values seen (count, gaps) and — while `latencies` is an array — publish-to-event
 * latencies from the ts field (arrival of the event here − publish time).
 * @param {Serve} serve
 */
export async function watchBatches(serve) {
  const ws = await openSocket(serve);
  /** @type {Watch} */
  const watch = { devices: new Map(), latencies: undefined, close: () => ws.terminate() };
  ws.on('message', (data) => {
    const arrived = now();
    const frame = JSON.parse(data.toString());
    if (frame.name !== 'telemetry.batch') return;
    for (const s of frame.payload.series) {
      if (!s.device.startsWith('dev-')) continue;
      if (s.field === 'seq') {
        let d = watch.devices.get(s.device);
        if (!d) watch.devices.set(s.device, (d = { count: 0, gaps: 0, maxSeq: -1 }));
        for (const seq of s.v) {
          d.count++;
          if (seq > d.maxSeq + 1) d.gaps += seq - d.maxSeq - 1;
          d.maxSeq = Math.max(d.maxSeq, seq);
        }
      } else if (s.field === 'ts' && watch.latencies) {
        for (const ts of s.v) watch.latencies.push(arrived - ts);
      }
    }
  });
  return watch;
}

/**
 * Opens the served app on #/telemetry in Debian's Chromium (headless) when the renderer has that
 * page; resolves { close } or { missing: reason }.
 * @param {string} url
 * @returns {Promise<{ close: () => Promise<void>, missing?: undefined } | { missing: string, close?: undefined }>}
 */
export async function openTelemetryPage(url) {
  const executablePath = process.env.MAKERDECK_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) return { missing: `no Chromium at ${executablePath}` };
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    // Playwright's own Ctrl+C handler would exit the bench before it stopped its brokers
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  try {
    const page = await browser.newPage();
    await page.goto(url); // the token rides in the fragment; the app moves it to sessionStorage
    await page.waitForSelector('nav a[href^="#/"], a[href^="#/"]', { timeout: 15_000 });
    if ((await page.locator('a[href="#/telemetry"]').count()) === 0) {
      await browser.close();
      return { missing: 'the renderer has no #/telemetry page yet' };
    }
    await page.evaluate(() => (window.location.hash = '#/telemetry'));
    await sleep(2000); // let it mount, subscribe and draw once
    return { close: () => browser.close() };
  } catch (error) {
    await browser.close();
    return { missing: `the page did not open: ${/** @type {Error} */ (error).message.split('\n')[0]}` };
  }
}

/**
 * utime + stime of a process in seconds (0 when it is gone).
 * @param {number} pid
 */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineBusySeconds() {
  const cpu = /** @type {string} */ (readFileSync('/proc/stat', 'utf8').split('\n')[0]); // "cpu  user nice system idle …"
  /** @typedef {[number, number, number, number, number, number, number, number]} CpuFields */
  const fields = /** @type {CpuFields} */ (cpu.trim().split(/\s+/).slice(1).map(Number));
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** This process and all its descendants: pid → { comm, cpu seconds }. */
export function processTree(rootPid = process.pid) {
  /** @type {Map<number, ProcessInfo>} */
  const info = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.replace(/^.*\) /s, '').split(' ');
      info.set(Number(entry), {
        comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        ppid: Number(fields[1]),
        cpu: (Number(fields[11]) + Number(fields[12])) / 100,
      });
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Map([[rootPid, info.get(rootPid)]]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of info) {
      if (tree.has(pid) || !tree.has(p.ppid)) continue;
      tree.set(pid, p);
      grew = true;
    }
  }
  return tree;
}

/**
 * Resident memory of a process in MB.
 * @param {number} pid
 */
export function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}
