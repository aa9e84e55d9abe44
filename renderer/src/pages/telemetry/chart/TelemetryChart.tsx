// The Telemetry page's live chart: several devices' series overlaid, millions of points, redrawn
// at most once per animation frame. React only mounts it and passes view changes on; the drawing
// loop lives in LiveChart, outside React's render cycle.
import { useEffect, useImperativeHandle, useRef, type Ref } from 'react';
import 'uplot/dist/uPlot.min.css';
import type { TelemetryDataSource } from './dataSource';
import { LiveChart, type ViewState } from './liveChart';
import type { ChartSeries, RenderStats, SeriesPoints, TimeRange } from './types';

export interface TelemetryChartHandle {
  /** PNG of the plot, axes and legend on white. */
  toPng(): Promise<Blob>;
  /** The window on screen (live, frozen or zoomed). */
  visibleRange(): TimeRange;
  /** Raw points in the window on screen, per series (for CSV export). */
  visiblePoints(): SeriesPoints[];
}

export interface TelemetryChartProps {
  series: readonly ChartSeries[];
  source: TelemetryDataSource;
  /** Live window length in ms (1 min … 24 h); the right edge follows now. */
  spanMs: number;
  /** Explicit window when zoomed or panned; null/absent = live. */
  range?: TimeRange | null;
  /** Freeze the view; data keeps buffering. */
  paused?: boolean;
  /** Drag-select or shift+drag pan gives a range, double-click gives null (back to live). Pass it back as `range`. */
  onZoom?: (range: TimeRange | null) => void;
  /** Called after each redraw with what it cost. */
  onRender?: (stats: RenderStats) => void;
  /** Plot height in CSS px (the legend is below). Default 320. */
  height?: number;
  /** Break the line where points are more than gapMs apart; default Infinity (always connect). */
  gapMs?: number;
  className?: string;
  ref?: Ref<TelemetryChartHandle>;
}

export function TelemetryChart({
  series,
  source,
  spanMs,
  range = null,
  paused = false,
  onZoom,
  onRender,
  height = 320,
  gapMs = Infinity,
  className,
  ref,
}: TelemetryChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<LiveChart | null>(null);
  const view: ViewState = { spanMs, range, paused };
  const latest = useRef({ view, height, onZoom, onRender });
  latest.current = { view, height, onZoom, onRender };
  // A new uPlot only when the set of lines changes; colours and labels are part of its options.
  const seriesKey = JSON.stringify(series.map((s) => [s.key, s.label, s.color]));

  useEffect(() => {
    const instance = new LiveChart(container.current!, {
      series,
      source,
      gapMs,
      height: latest.current.height,
      view: latest.current.view,
      onZoom: (r) => latest.current.onZoom?.(r),
      onRender: (stats) => latest.current.onRender?.(stats),
    });
    chart.current = instance;
    return () => {
      instance.destroy();
      chart.current = null;
    };
    // `series` is covered by seriesKey: a new array with the same lines must not rebuild the chart.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seriesKey, source, gapMs]);

  useEffect(
    () => chart.current?.setView(latest.current.view),
    [spanMs, range?.from, range?.to, paused, seriesKey, source, gapMs],
  );
  useEffect(() => chart.current?.setHeight(height), [height]);

  useImperativeHandle(
    ref,
    () => ({
      toPng: () => (chart.current ? chart.current.toPng() : Promise.reject(new Error('the chart is not mounted'))),
      visibleRange: () => chart.current?.visibleRange() ?? { from: Date.now() - spanMs, to: Date.now() },
      visiblePoints: () => chart.current?.visiblePoints() ?? [],
    }),
    [spanMs],
  );

  return (
    <div
      ref={container}
      className={className ? `telemetry-chart ${className}` : 'telemetry-chart'}
      data-testid="telemetry-chart-plot"
    />
  );
}
