// npm run bench:telemetry-render — the Telemetry chart in Debian's headless Chromium, 1,800 px
// wide: 8 series × 1,000,000 points retained and in view, 50,000 new points/s generated in the
// page. For ~10 s it records requestAnimationFrame intervals and the chart's work per redraw
// (decimation + uPlot draw), then the JS heap and array-buffer memory; once with TelemetryChart
// (incremental min/max decimation) and once with uPlot given every point, in three windows:
// 3 min (holds the 160 s of points, slides ~10 px/s), 24 h with the points spread over the day,
// and 24 h with the same 160 s of points (a few dense columns, evicting from them every frame).
// Goal from the issue: frame interval p95 ≤ 17 ms and chart work p95 ≤ 8 ms.
import react from '@vitejs/plugin-react';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, runnerImport } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.MAKERDECK_CHROMIUM ?? '/usr/bin/chromium';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SERIES = 8;
const POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const RATE = 50_000;
const WIDTH = 1800;
/** @typedef {{ name: string, span: number, history?: number }} Scenario */
/**
 * What the page leaves in window.__bench (scripts/bench/telemetryRender/main.tsx).
 * @typedef {{ mode: string, frames: number[], work: number[], decimation: number[], rescans: number[],
 *   typedBytes: number, streamed: number, violations: string[], canvases: string[] }} Bench
 * @typedef {Awaited<ReturnType<typeof run>>} RunResult
 */
/** @type {Scenario[]} */
const SCENARIOS = [
  { name: '3 min', span: 180_000 }, // history = POINTS at the stream rate (160 s)
  { name: '24 h', span: 86_400_000, history: 86_000_000 },
  { name: '24 h/160 s', span: 86_400_000 },
];
const MODES = ['decimated', 'naive'];

/** @type {Record<string, string>} */
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

/**
 * Serves the built page with the app's real security headers, so a CSP problem shows up here.
 * @param {string} dir
 */
async function serve(dir) {
  const { module: security } = await runnerImport(path.join(root, 'electron', 'web', 'security.ts'));
  const server = http.createServer((req, res) => {
    const pathname = path.posix.normalize(new URL(/** @type {string} */ (req.url), 'http://x').pathname);
    const file = path.join(dir, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    try {
      const body = readFileSync(file);
      res.writeHead(200, {
        'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        ...security.SECURITY_HEADERS,
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await /** @type {Promise<void>} */ (new Promise((resolve) => server.listen(0, '127.0.0.1', resolve)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** @type {(values: number[], p: number) => number} */
const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
};
const mb = (/** @type {number} */ bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const ms = (/** @type {number} */ value) => `${value.toFixed(1)} ms`;

/**
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {Scenario} scenario
 * @param {string} mode
 */
async function run(browser, url, scenario, mode) {
  const page = await browser.newPage({ viewport: { width: WIDTH, height: 900 } });
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  try {
    const history = scenario.history ? { history: scenario.history } : {};
    const numbers = { series: SERIES, points: POINTS, rate: RATE, span: scenario.span, seconds: SECONDS, ...history };
    const query = new URLSearchParams({
      mode,
      ...Object.fromEntries(Object.entries(numbers).map(([k, v]) => [k, String(v)])),
    });
    await page.goto(`${url}?${query}`);
    const benchOf = () => /** @type {Window & { __bench?: Bench }} */ (window).__bench; // runs in the page
    const handle = await page.waitForFunction(benchOf, null, { timeout: (SECONDS + 60) * 1000, polling: 500 });
    const bench = /** @type {Bench} */ (await handle.jsonValue()); // waitForFunction waited for it to be there
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = await cdp.send('Runtime.getHeapUsage');
    const frame = (/** @type {number} */ i) => /** @type {number} */ (bench.frames.at(i));
    const intervals = bench.frames.slice(1).map((t, i) => t - frame(i));
    return {
      scenario: scenario.name,
      mode,
      frameP50: percentile(intervals, 50),
      frameP95: percentile(intervals, 95),
      fps: (intervals.length / (frame(-1) - frame(0))) * 1000,
      workP50: percentile(bench.work, 50),
      workP95: percentile(bench.work, 95),
      decimateP50: percentile(bench.decimation, 50),
      decimateP95: percentile(bench.decimation, 95),
      draws: bench.work.length,
      rescans: bench.rescans.reduce((a, b) => a + b, 0),
      heapUsed: heap.usedSize,
      arrayBuffers: heap.backingStorageSize ?? NaN,
      typedBytes: bench.typedBytes,
      streamed: bench.streamed,
      violations: bench.violations,
      canvases: bench.canvases,
    };
  } finally {
    await page.close();
  }
}

async function main() {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-telemetry-render-'));
  let server;
  let browser;
  try {
    await build({
      configFile: false,
      root: path.join(root, 'scripts', 'bench', 'telemetryRender'),
      base: './',
      logLevel: 'warn',
      plugins: [react()],
      build: { outDir, emptyOutDir: true, minify: true },
    });
    server = await serve(outDir);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    /** @type {RunResult[]} */
    const results = [];
    for (const scenario of SCENARIOS) {
      for (const mode of MODES) {
        process.stderr.write(`  ${scenario.name} window, ${mode}…\n`);
        results.push(await run(browser, server.url, scenario, mode));
      }
    }
    console.log(
      `bench:telemetry-render — Chromium ${browser.version()} headless, ${WIDTH} px, ${SERIES} series × ${POINTS.toLocaleString('en')} points in view, ${RATE.toLocaleString('en')} points/s, ${SECONDS} s per run`,
    );
    console.log(
      'window      mode        frame p50  frame p95   fps   work p50  work p95  (of which decimation p50/p95)  redraws  rescans  JS heap  array buffers',
    );
    for (const r of results) {
      const decimation = Number.isNaN(r.decimateP95) ? '' : `(${ms(r.decimateP50)} / ${ms(r.decimateP95)})`;
      console.log(
        `${r.scenario.padEnd(11)} ${r.mode.padEnd(10)} ${ms(r.frameP50).padStart(9)} ${ms(r.frameP95).padStart(10)} ${r.fps.toFixed(0).padStart(5)} ${ms(r.workP50).padStart(10)} ${ms(r.workP95).padStart(9)}  ${decimation.padStart(30)} ${String(r.draws).padStart(8)} ${String(r.rescans).padStart(8)} ${mb(r.heapUsed).padStart(8)} ${mb(r.arrayBuffers).padStart(9)} (data ${mb(r.typedBytes)})`,
      );
    }
    for (const scenario of SCENARIOS) {
      // every scenario ran in both modes above
      const d = /** @type {RunResult} */ (results.find((r) => r.scenario === scenario.name && r.mode === 'decimated'));
      const n = /** @type {RunResult} */ (results.find((r) => r.scenario === scenario.name && r.mode === 'naive'));
      const ok = d.frameP95 <= 17 && d.workP95 <= 8;
      console.log(
        `${scenario.name} window: naive/decimated — frame p95 ×${(n.frameP95 / d.frameP95).toFixed(1)}, work p50 ×${(n.workP50 / d.workP50).toFixed(0)}, work p95 ×${(n.workP95 / d.workP95).toFixed(0)}, array buffers ×${(n.arrayBuffers / d.arrayBuffers).toFixed(2)}; goal frame p95 ≤ 17 ms, work p95 ≤ 8 ms: ${ok ? 'met' : 'NOT met'}`,
      );
    }
    const violations = results.flatMap((r) => r.violations);
    console.log(
      violations.length === 0
        ? "CSP (the app's headers): no violations"
        : `CSP violations: ${[...new Set(violations)].join(', ')}`,
    );
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench:telemetry-render: ${error.stack ?? error.message}`);
  process.exit(1);
});
