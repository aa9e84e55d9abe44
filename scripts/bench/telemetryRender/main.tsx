// The page bench:telemetry-render opens: SERIES series of POINTS points each, RATE new points/s
// generated here (in 10 ms batches, like IPC messages), drawn either by TelemetryChart (min/max
// decimation, mode=decimated) or by uPlot given every point (mode=naive, a double-width sliding
// typed-array buffer as uPlot needs contiguous arrays). The page measures requestAnimationFrame
// intervals and the chart's work per redraw, and leaves the results in window.__bench.
import { createRoot } from 'react-dom/client';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './bench.css';
import { SeriesStore, TelemetryChart, type ChartSeries } from '../../../renderer/src/pages/telemetry/chart';

const params = new URLSearchParams(location.search);
const number = (name: string, fallback: number) => Number(params.get(name) ?? fallback);
const MODE = params.get('mode') === 'naive' ? 'naive' : 'decimated';
const SERIES = number('series', 8);
const POINTS = number('points', 1_000_000);
const RATE = number('rate', 50_000);
const SPAN = number('span', 180_000);
const SECONDS = number('seconds', 10);
const WARMUP_MS = 1500;
const PER_SERIES_MS = (1000 * SERIES) / RATE; // interval between points of one series
const HISTORY = number('history', POINTS * PER_SERIES_MS); // ms the prefilled points spread over
const HEIGHT = 480;
const COLORS = ['#2b6cb0', '#c53030', '#2f855a', '#b7791f', '#6b46c1', '#dd6b20', '#319795', '#d53f8c'];
const series: ChartSeries[] = Array.from({ length: SERIES }, (_, i) => ({
  key: `device-${i + 1}/temp`,
  label: `device-${i + 1} temp`,
  color: COLORS[i % COLORS.length]!,
}));

const violations: string[] = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));

// A cheap deterministic signal: a slow sine per series plus noise, so min/max columns have height.
let seed = 12345;
const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296) * 2 - 1;
const valueAt = (s: number, t: number) => s * 4 + 3 * Math.sin(t / (20_000 + 7_000 * s)) + noise();

const start = Date.now();
const historyDt = HISTORY / POINTS;
const historyTime = (i: number) => start - HISTORY + i * historyDt;
let generated = 0; // streamed points per series so far; point k of the stream is at start + k · PER_SERIES_MS

interface Sink {
  /** Takes one time-ordered batch for every series (the same times). */
  push(times: Float64Array, values: Float64Array[]): void;
  typedBytes(): number;
}

function generate(sink: Sink): void {
  const due = Math.floor((Date.now() - start) / PER_SERIES_MS);
  const n = due - generated;
  if (n <= 0) return;
  const times = new Float64Array(n);
  for (let j = 0; j < n; j++) times[j] = start + (generated + j) * PER_SERIES_MS;
  const values = series.map((_, s) => times.map((t) => valueAt(s, t)));
  generated = due;
  sink.push(times, values);
}

function prefill(sink: Sink): void {
  const CHUNK = 1 << 16;
  for (let i = 0; i < POINTS; i += CHUNK) {
    const times = new Float64Array(Math.min(CHUNK, POINTS - i));
    for (let j = 0; j < times.length; j++) times[j] = historyTime(i + j);
    sink.push(
      times,
      series.map((_, s) => times.map((t) => valueAt(s, t))),
    );
  }
}

const work: number[] = [];
const decimation: number[] = [];
const rescans: number[] = [];
const root = document.getElementById('root')!;

function decimated(): Sink {
  // float32 values, as the Telemetry page stores them.
  const store = new SeriesStore(POINTS, { float32: true });
  const sink: Sink = {
    push: (times, values) => series.forEach((s, i) => store.push(s.key, times, values[i]!)),
    typedBytes: () =>
      series.reduce(
        (sum, s) => sum + store.buffer(s.key)!.times.byteLength + store.buffer(s.key)!.values.byteLength,
        0,
      ),
  };
  prefill(sink);
  createRoot(root).render(
    <TelemetryChart
      series={series}
      source={store}
      spanMs={SPAN}
      height={HEIGHT}
      onRender={(stats) => {
        if (measuring) {
          work.push(stats.ms);
          decimation.push(stats.decimateMs);
          rescans.push(stats.rescans);
        }
      }}
    />,
  );
  return sink;
}

function naive(): Sink {
  // uPlot needs one contiguous x array shared by all series: keep 2 × POINTS so appending only
  // copies when the end is reached (that is the ~138 MB of the issue), and show the last POINTS.
  const capacity = 2 * POINTS;
  const x = new Float64Array(capacity);
  const ys = series.map(() => new Float64Array(capacity));
  let from = 0;
  let to = 0;
  const sink: Sink = {
    push(times, values) {
      if (to + times.length > capacity) {
        x.copyWithin(0, from, to);
        for (const y of ys) y.copyWithin(0, from, to);
        [from, to] = [0, to - from];
      }
      x.set(times, to);
      ys.forEach((y, s) => y.set(values[s]!, to));
      to += times.length;
      from = Math.max(from, to - POINTS);
    },
    typedBytes: () => (ys.length + 1) * capacity * 8,
  };
  prefill(sink);
  let view = { from: start - SPAN, to: start };
  const u = new uPlot(
    {
      width: root.clientWidth,
      height: HEIGHT,
      ms: 1,
      scales: { x: { time: true, range: () => [view.from, view.to] } },
      axes: [{}, { size: 64 }],
      series: [
        { label: 'Time' },
        ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1, points: { show: false } })),
      ],
    },
    [x.subarray(from, to), ...ys.map((y) => y.subarray(from, to))],
    root,
  );
  let drawnTo = -1;
  const frame = () => {
    requestAnimationFrame(frame);
    const now = Date.now();
    // Same rule as the chart: redraw when data arrived or the live window moved a pixel.
    const msPerPx = SPAN / u.bbox.width;
    const right = Math.ceil(now / msPerPx) * msPerPx;
    if (to === drawnTo && right === view.to) return;
    const started = performance.now();
    view = { from: right - SPAN, to: right };
    drawnTo = to;
    u.batch(() => u.setData([x.subarray(from, to), ...ys.map((y) => y.subarray(from, to))]));
    if (measuring) work.push(performance.now() - started);
  };
  requestAnimationFrame(frame);
  return sink;
}

let measuring = false;
const frames: number[] = [];
const sink = MODE === 'naive' ? naive() : decimated();
setInterval(() => generate(sink), 10);

const readyAt = performance.now();
const tick = (now: number) => {
  if (now - readyAt < WARMUP_MS) return requestAnimationFrame(tick);
  measuring = true;
  frames.push(now);
  if (now - frames[0]! < SECONDS * 1000) return requestAnimationFrame(tick);
  measuring = false;
  const canvases = [...document.querySelectorAll('canvas')].map((c) => `${c.width}x${c.height}`);
  Object.assign(window, {
    __bench: {
      mode: MODE,
      frames,
      work,
      decimation,
      rescans,
      typedBytes: sink.typedBytes(),
      streamed: generated * SERIES,
      violations,
      canvases,
    },
  });
};
requestAnimationFrame(tick);
