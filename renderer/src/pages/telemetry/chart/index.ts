// The Telemetry chart module: buffers, the data source, the React chart and its export helpers.
export { SeriesBuffer, type SeriesBufferOptions, type ValueArray } from './seriesBuffer';
export { SeriesStore, type TelemetryDataSource } from './dataSource';
export { MinMaxDecimator, gridFor, SLOTS, type DecimatorOptions, type Grid, type UpdateStats } from './minMaxDecimator';
export { TelemetryChart, type TelemetryChartHandle, type TelemetryChartProps } from './TelemetryChart';
export { LiveChart, type LiveChartOptions, type ViewState } from './liveChart';
export { canvasToPng, pointsInRange } from './exportChart';
export type { ChartSeries, RenderStats, SeriesPoints, TimeRange } from './types';
