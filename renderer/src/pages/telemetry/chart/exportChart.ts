// Getting what the chart shows out of it: the picture as PNG, the raw points for CSV.
import type { TelemetryDataSource } from './dataSource';
import type { ChartSeries, SeriesPoints } from './types';

/** The raw points of each series with from ≤ time ≤ to, in series order (empty arrays when a series has no buffer). */
export function pointsInRange(
  source: TelemetryDataSource,
  series: readonly ChartSeries[],
  from: number,
  to: number,
): SeriesPoints[] {
  return series.map(({ key, label }) => {
    const copy = source.buffer(key)?.copyRange(from, to);
    return { key, label, times: copy?.times ?? new Float64Array(0), values: copy?.values ?? new Float64Array(0) };
  });
}

/**
 * A PNG of a chart canvas on an opaque background (the canvas itself is transparent, which shows
 * black in many viewers), with the legend drawn under it since uPlot's legend is HTML, not canvas.
 * `ratio` is canvas pixels per CSS pixel.
 */
export function canvasToPng(
  canvas: HTMLCanvasElement,
  legend: readonly ChartSeries[],
  ratio = 1,
  background = '#ffffff',
): Promise<Blob> {
  const out = document.createElement('canvas');
  const font = `${Math.round(12 * ratio)}px system-ui, sans-serif`;
  const pad = Math.round(8 * ratio);
  const swatch = Math.round(10 * ratio);
  const row = Math.round(20 * ratio);
  // Lay the legend out first: the canvas height depends on how many rows it wraps to.
  const measure = out.getContext('2d')!;
  measure.font = font;
  const items: { x: number; y: number; series: ChartSeries }[] = [];
  let x = pad;
  let y = canvas.height + pad;
  for (const series of legend) {
    const width = swatch + Math.round(6 * ratio) + measure.measureText(series.label).width + 2 * pad;
    if (x > pad && x + width > canvas.width) [x, y] = [pad, y + row];
    items.push({ x, y, series });
    x += width;
  }
  out.width = canvas.width;
  out.height = canvas.height + (items.length > 0 ? y - canvas.height + row + pad : 0);
  const context = out.getContext('2d')!;
  context.fillStyle = background;
  context.fillRect(0, 0, out.width, out.height);
  context.drawImage(canvas, 0, 0);
  context.font = font;
  context.textBaseline = 'middle';
  for (const { x, y, series } of items) {
    context.fillStyle = series.color;
    context.fillRect(x, y + (row - swatch) / 2, swatch, swatch);
    context.fillStyle = '#1a202c';
    context.fillText(series.label, x + swatch + Math.round(6 * ratio), y + row / 2);
  }
  return new Promise((resolve, reject) =>
    out.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the chart as PNG'))),
      'image/png',
    ),
  );
}
