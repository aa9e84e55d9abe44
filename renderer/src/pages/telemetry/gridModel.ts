// The teacher grid's data and drawing, outside React: one small ring per board for the field on
// screen, fed by the host's telemetry batches (after one telemetry.window fill), and a painter that
// redraws only the boards whose data or state changed, once per animation frame. Values and
// states are written straight into each cell's DOM: a point never re-renders React.
import type { DeviceView, TelemetryBatch } from '../../../../electron/contract/telemetry';
import { api } from '../../api/client';
import { SeriesBuffer } from './chart';
import { drawSparkline } from './drawSparkline';

/** Points kept per board: 2 minutes at 5 Hz. */
const POINTS_PER_BOARD = 600;
/** telemetry.window takes at most this many series per call. */
const WINDOW_SERIES = 64;
const STATUS_TEXT: Record<DeviceView['status'], string> = {
  online: '● online',
  offline: '○ offline',
  unknown: '? unknown',
};
/** The shortest time a chart spans, however young its data. */
const MIN_SPAN_MS = 30_000;
const STYLE = { line: '#2b6cb0', dot: '#c05621' };

/** The parts of a grid cell the painter writes to. */
export interface GridCell {
  root: HTMLElement;
  canvas: HTMLCanvasElement;
  value: HTMLElement;
  status: HTMLElement;
}

/** What drawing has cost so far (for the benchmark figures in the e2e run). */
export interface GridStats {
  frames: number;
  draws: number;
  maxFrameMs: number;
  totalFrameMs: number;
}

export class GridModel {
  private readonly buffers = new Map<string, SeriesBuffer>();
  private readonly views = new Map<string, DeviceView>();
  private readonly cells = new Map<string, GridCell>();
  private readonly dirty = new Set<string>();
  private readonly devices: Set<string>;
  private field: string;
  /** Boards whose window is being read: their batches are in the answer. */
  private readonly filling = new Set<string>();
  private root?: HTMLElement;
  private frame?: number;
  private tick?: ReturnType<typeof setInterval>;
  private off?: () => void;
  readonly stats: GridStats = { frames: 0, draws: 0, maxFrameMs: 0, totalFrameMs: 0 };

  /** `field` '' takes the first field a board of the grid sends. */
  constructor(
    devices: string[],
    field: string,
    known: DeviceView[],
    private readonly spanMs = 120_000,
  ) {
    this.devices = new Set(devices);
    this.field = field;
    for (const view of known) if (this.devices.has(view.device)) this.views.set(view.device, view);
  }

  start(): void {
    this.off = api().on('telemetry.batch', (batch) => this.receive(batch));
    // The window scrolls: every board is redrawn once a second even without new points.
    this.tick = setInterval(() => {
      this.markAll();
      this.showStats();
    }, 1000);
    if (this.field) void this.fill();
  }

  stop(): void {
    this.off?.();
    clearInterval(this.tick);
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
  }

  /** The grid's element: it carries the drawing figures as data attributes (read by the e2e run). */
  attachRoot(root: HTMLElement | undefined): void {
    this.root = root;
  }

  private showStats(): void {
    if (!this.root) return;
    const { frames, draws, maxFrameMs, totalFrameMs } = this.stats;
    this.root.dataset.frames = String(frames);
    this.root.dataset.draws = String(draws);
    this.root.dataset.maxFrameMs = maxFrameMs.toFixed(2);
    this.root.dataset.meanFrameMs = frames ? (totalFrameMs / frames).toFixed(3) : '0';
  }

  /** A cell mounted (or unmounted: undefined) for a board; it is drawn on the next frame. */
  attach(device: string, cell: GridCell | undefined): void {
    if (cell) this.cells.set(device, cell);
    else this.cells.delete(device);
    this.markDirty(device);
  }

  /**
   * The host's ring for the window, then batches. The host sends every batch it has before it
   * answers telemetry.window, so batches arriving meanwhile are in the answer and are skipped.
   */
  private async fill(): Promise<void> {
    const devices = [...this.devices];
    for (const device of devices) this.filling.add(device);
    const to = Date.now() + 1000;
    for (let i = 0; i < devices.length; i += WINDOW_SERIES) {
      const chunk = devices.slice(i, i + WINDOW_SERIES);
      try {
        const series = chunk.map((device) => ({ device, field: this.field }));
        const answer = await api().call('telemetry.window', { series, from: to - this.spanMs, to });
        for (const points of answer) {
          const buffer = this.bufferOf(points.device);
          buffer.clear();
          buffer.push(points.t, points.v);
          this.markDirty(points.device);
        }
      } catch {
        // Live points still come: those boards start from them.
      } finally {
        for (const device of chunk) this.filling.delete(device);
      }
    }
  }

  private receive(batch: TelemetryBatch): void {
    for (const view of batch.devices) {
      if (!this.devices.has(view.device)) continue;
      this.views.set(view.device, view);
      this.markDirty(view.device);
    }
    for (const s of batch.series) {
      if (!this.devices.has(s.device)) continue;
      if (!this.field) this.field = s.field;
      if (s.field !== this.field || this.filling.has(s.device)) continue;
      this.bufferOf(s.device).push(s.t, s.v);
      this.markDirty(s.device);
    }
  }

  private bufferOf(device: string): SeriesBuffer {
    let buffer = this.buffers.get(device);
    if (!buffer) this.buffers.set(device, (buffer = new SeriesBuffer(POINTS_PER_BOARD)));
    return buffer;
  }

  private markAll(): void {
    for (const device of this.cells.keys()) this.markDirty(device);
  }

  private markDirty(device: string): void {
    this.dirty.add(device);
    this.frame ??= requestAnimationFrame(() => this.paint());
  }

  private paint(): void {
    this.frame = undefined;
    const started = performance.now();
    const to = Date.now();
    // Every size is read before anything is written: one layout per frame, not one per board.
    const jobs = [...this.dirty].flatMap((device) => {
      const cell = this.cells.get(device);
      return cell ? [{ device, cell, box: { width: cell.canvas.clientWidth, height: cell.canvas.clientHeight } }] : [];
    });
    for (const { device, cell, box } of jobs) this.paintCell(device, cell, box, to);
    this.stats.draws += this.dirty.size;
    this.dirty.clear();
    const ms = performance.now() - started;
    this.stats.frames++;
    this.stats.totalFrameMs += ms;
    this.stats.maxFrameMs = Math.max(this.stats.maxFrameMs, ms);
  }

  private paintCell(device: string, cell: GridCell, box: { width: number; height: number }, to: number): void {
    const buffer = this.buffers.get(device);
    // Young data fills the chart: the window starts at the board's first point, at least MIN_SPAN_MS back.
    const first = buffer && buffer.length > 0 ? buffer.time(0) : -Infinity;
    const from = Math.max(to - this.spanMs, Math.min(first, to - MIN_SPAN_MS));
    const newest = drawSparkline(cell.canvas, box, buffer, [from, to], STYLE);
    const last = this.views.get(device)?.last.find((l) => l.field === this.field);
    const shown = newest ?? (last && { t: last.t, v: last.v });
    cell.value.textContent = shown ? `${this.field} ${formatValue(shown.v)}` : 'no data yet';
    if (newest) {
      cell.canvas.dataset.newestT = String(newest.t);
      cell.canvas.dataset.newestV = String(newest.v);
    }
    const status = this.views.get(device)?.status ?? 'unknown';
    if (cell.root.dataset.status !== status) {
      cell.root.dataset.status = status;
      cell.status.textContent = STATUS_TEXT[status];
    }
  }
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) >= 100 ? 1 : 2);
}
