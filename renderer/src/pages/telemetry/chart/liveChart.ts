// The chart without React: uPlot fed by the incremental decimator, a frame loop that draws at most
// once per animation frame and only when data or the view changed, and the mouse gestures.
//
// Gestures: drag selects a time span to zoom to; shift+drag pans; double-click returns to live.
// Zoom and pan are reported through onZoom and take effect when the owner passes the range back
// (the view is controlled). The wheel is left alone, so it keeps scrolling the page.
import uPlot from 'uplot';
import { columnPaths } from './columnPaths';
import type { TelemetryDataSource } from './dataSource';
import { canvasToPng, pointsInRange } from './exportChart';
import { MinMaxDecimator, gridFor, type Grid } from './minMaxDecimator';
import type { SeriesBuffer } from './seriesBuffer';
import type { ChartSeries, RenderStats, SeriesPoints, TimeRange } from './types';

export interface ViewState {
  /** Live window length, ms: the right edge follows now. */
  spanMs: number;
  /** An explicit window (zoomed or panned) instead of the live one; null = live. */
  range: TimeRange | null;
  /** Frozen: data keeps buffering but the view does not move (zoom and pan still work). */
  paused: boolean;
}

export interface LiveChartOptions {
  series: readonly ChartSeries[];
  source: TelemetryDataSource;
  /** Plot and axes height in CSS px; the legend comes below it. */
  height: number;
  /** See DecimatorOptions.gapMs. */
  gapMs?: number;
  view: ViewState;
  onZoom?: (range: TimeRange | null) => void;
  onRender?: (stats: RenderStats) => void;
}

/** A fixed y-axis width keeps the plot width, hence the column grid, from changing with the labels (which would rescan). */
const Y_AXIS_SIZE = 64;
const MIN_SELECT_PX = 3;
/** Below this a zoom would only magnify the gaps between points. */
const MIN_SPAN_MS = 10;

export class LiveChart {
  private readonly u: uPlot;
  private readonly decimator: MinMaxDecimator;
  private readonly buffers: (SeriesBuffer | undefined)[];
  private view: ViewState;
  /** The live window when pause was pressed. */
  private frozen: TimeRange | null = null;
  /** The window while a shift+drag pan is in progress. */
  private panning: TimeRange | null = null;
  /** The window drawn last; uPlot's x range reads it. */
  private shown: TimeRange;
  private grid: Grid | null = null;
  private dirty = true;
  private frameId = 0;
  private width: number;
  private height: number;
  private sized = true;
  private readonly unsubscribe: () => void;
  private readonly resizeObserver: ResizeObserver;
  private endPan: (() => void) | null = null;
  private destroyed = false;

  constructor(
    container: HTMLElement,
    private readonly options: LiveChartOptions,
  ) {
    this.view = options.view;
    this.height = options.height;
    this.width = Math.floor(container.clientWidth) || 600;
    this.decimator = new MinMaxDecimator(options.series.length, { gapMs: options.gapMs ?? Infinity });
    this.buffers = options.series.map(() => undefined);
    const now = Date.now();
    this.shown = { from: now - this.view.spanMs, to: now };
    this.u = new uPlot(this.uplotOptions(), [new Float64Array(0), ...options.series.map(() => [])], container);
    this.unsubscribe = options.source.subscribe(() => {
      if (this.view.paused) return;
      this.dirty = true;
      this.schedule();
    });
    this.resizeObserver = new ResizeObserver(() => {
      const width = Math.floor(container.clientWidth);
      if (width > 0 && width !== this.width) {
        this.width = width;
        this.sized = false;
        this.schedule();
      }
    });
    this.resizeObserver.observe(container);
    this.schedule();
  }

  setView(view: ViewState): void {
    // Pausing freezes the live window of that moment; zooming while paused still works.
    if (view.paused && !this.view.paused) this.frozen = this.liveWindow(Date.now(), view.spanMs);
    if (!view.paused) this.frozen = null;
    this.view = view;
    this.dirty = true;
    this.schedule();
  }

  setHeight(height: number): void {
    if (height === this.height) return;
    this.height = height;
    this.sized = false;
    this.schedule();
  }

  /** The window on screen. */
  visibleRange(): TimeRange {
    return { ...this.shown };
  }

  /** The raw points in the window on screen, one entry per series. */
  visiblePoints(): SeriesPoints[] {
    return pointsInRange(this.options.source, this.options.series, this.shown.from, this.shown.to);
  }

  /** The chart (plot, axes and a legend) as PNG on white. */
  toPng(): Promise<Blob> {
    const canvas = this.u.ctx.canvas;
    return canvasToPng(canvas, this.options.series, canvas.width / this.u.width);
  }

  destroy(): void {
    this.destroyed = true;
    this.endPan?.();
    cancelAnimationFrame(this.frameId);
    this.frameId = 0;
    this.unsubscribe();
    this.resizeObserver.disconnect();
    this.u.destroy();
  }

  private schedule(): void {
    if (this.frameId === 0 && !this.destroyed) this.frameId = requestAnimationFrame(this.frame);
  }

  private readonly frame = (): void => {
    this.frameId = 0;
    const started = performance.now();
    let resized = false;
    if (!this.sized) {
      // Resize first, synchronously, so the grid below is built on the new plot width.
      this.u.batch(() => this.u.setSize({ width: this.width, height: this.height }));
      this.sized = true;
      resized = true;
    }
    const live = !this.panning && !this.fixedRange() && !this.view.paused;
    const target = this.target(Date.now());
    if (resized || this.dirty || target.from !== this.shown.from || target.to !== this.shown.to)
      this.draw(target, started);
    // Live, the window moves with the clock: look again next frame (draws only when it crossed a pixel).
    if (live) this.schedule();
  };

  private draw(target: TimeRange, started: number): void {
    const series = this.options.series;
    for (let i = 0; i < series.length; i++) this.buffers[i] = this.options.source.buffer(series[i]!.key);
    this.grid = gridFor(target.from, target.to, this.plotWidth(), this.grid);
    const decimateStarted = performance.now();
    const stats = this.decimator.update(this.buffers, this.grid);
    const decimateMs = performance.now() - decimateStarted;
    this.shown = target;
    this.u.batch(() => this.u.setData(this.decimator.data));
    this.dirty = false;
    this.options.onRender?.({
      ms: performance.now() - started,
      decimateMs,
      rescans: stats.rescans,
      scanned: stats.scanned,
      columns: this.grid.columns,
    });
  }

  private valueRange(): uPlot.Range.MinMax {
    const range = this.decimator.valueRange;
    return range ? uPlot.rangeNum(range[0], range[1], 0.1, true) : [0, 1];
  }

  /** Plot area width in canvas pixels: one column per device pixel. */
  private plotWidth(): number {
    return Math.max(1, Math.round(this.u.bbox.width));
  }

  private target(now: number): TimeRange {
    if (this.panning) return this.panning;
    const range = this.fixedRange();
    if (range) return range;
    if (this.view.paused) return this.frozen ?? this.shown;
    return this.liveWindow(now, this.view.spanMs);
  }

  /** The zoomed/panned window, if any and usable. */
  private fixedRange(): TimeRange | null {
    const range = this.view.range;
    return range && range.to - range.from >= MIN_SPAN_MS ? range : null;
  }

  /** [now − span, now] with the right edge rounded up to a device pixel, so sub-pixel clock steps don't redraw. */
  private liveWindow(now: number, spanMs: number): TimeRange {
    const span = Math.max(spanMs, MIN_SPAN_MS);
    const msPerPx = span / this.plotWidth();
    const to = Math.ceil(now / msPerPx) * msPerPx;
    return { from: to - span, to };
  }

  private uplotOptions(): uPlot.Options {
    return {
      width: this.width,
      height: this.height,
      ms: 1, // x values are ms since the epoch, like the buffers
      legend: { show: true, live: true },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        // The legend shows a series' value only if it has a point within this many CSS px of the
        // cursor, not the nearest point however far (a device that only just appeared).
        hover: { prox: 32, skip: [NaN] }, // NaN: no point in that slot
        bind: {
          mousedown: (_u, _target, handler) => (event) => {
            if (event.shiftKey && event.button === 0) return this.startPan(event);
            return handler(event);
          },
          dblclick: () => () => {
            this.options.onZoom?.(null);
            return null;
          },
        },
      },
      scales: {
        x: { time: true, range: () => [this.shown.from, this.shown.to] },
        // From the decimator's columns: uPlot's own scan stops at a leading NaN.
        y: { range: () => this.valueRange() },
      },
      axes: [{}, { size: Y_AXIS_SIZE }],
      series: [
        { label: 'Time', value: '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}.{fff}' },
        ...this.options.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1,
          points: { show: false },
          spanGaps: false,
          paths: columnPaths((i) => this.decimator.gaps[i - 1]),
        })),
      ],
      hooks: { setSelect: [(u: uPlot) => this.selected(u)] },
    };
  }

  /** End of a drag-select: report the span, then hide the selection (the zoom shows it). */
  private selected(u: uPlot): void {
    const { left, width } = u.select;
    if (width >= MIN_SELECT_PX) {
      const from = u.posToVal(left, 'x');
      const to = u.posToVal(left + width, 'x');
      if (to - from >= MIN_SPAN_MS) this.options.onZoom?.({ from, to });
    }
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
  }

  private startPan(down: MouseEvent): null {
    this.endPan?.();
    const start = { ...this.shown };
    const span = start.to - start.from;
    const cssWidth = this.u.bbox.width / (this.u.ctx.canvas.width / this.u.width);
    const at = (event: MouseEvent): TimeRange => {
      const dt = ((event.clientX - down.clientX) / cssWidth) * span;
      return { from: start.from - dt, to: start.to - dt };
    };
    const move = (event: MouseEvent) => {
      this.panning = at(event);
      this.schedule();
    };
    const up = (event: MouseEvent) => {
      this.endPan?.();
      if (event.clientX !== down.clientX) this.options.onZoom?.(at(event));
    };
    document.addEventListener('mousemove', move);
    document.addEventListener('mouseup', up);
    this.endPan = () => {
      document.removeEventListener('mousemove', move);
      document.removeEventListener('mouseup', up);
      this.endPan = null;
      this.panning = null;
      this.schedule();
    };
    return null;
  }
}
