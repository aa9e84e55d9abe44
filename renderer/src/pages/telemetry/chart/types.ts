// Shapes shared by the chart's modules and its users.

/** One line on the chart: `key` names its buffer in the data source. */
export interface ChartSeries {
  key: string;
  label: string;
  /** Any canvas colour, e.g. '#2b6cb0'. */
  color: string;
}

/** A time window, ms since the epoch. */
export interface TimeRange {
  from: number;
  to: number;
}

/** What one redraw cost, for diagnostics and the benchmark. */
export interface RenderStats {
  /** Decimation plus uPlot's redraw, ms. */
  ms: number;
  /** Of which decimation (buckets and output arrays), ms. */
  decimateMs: number;
  /** Series rebuilt from scratch (zoom, resize, new buffer); 0 on an incremental frame. */
  rescans: number;
  /** Buffer points read. */
  scanned: number;
  /** Pixel columns. */
  columns: number;
}

/** The raw points of one series in a window (copies, for export). */
export interface SeriesPoints {
  key: string;
  label: string;
  times: Float64Array;
  values: Float64Array;
}
