// One small live chart on a canvas: the points of a time window as a line, the newest as a dot.
import type { SeriesBuffer } from './chart';

export interface SparklineStyle {
  line: string;
  dot: string;
}

/**
 * Draws `buffer`'s points between `from` and `to` (ms) scaled to their own min/max, and returns
 * the newest point drawn (undefined when the window is empty). `box` is the canvas's CSS size,
 * read by the caller before any drawing so a frame of many charts forces no layout in between.
 */
export function drawSparkline(
  canvas: HTMLCanvasElement,
  box: { width: number; height: number },
  buffer: SeriesBuffer | undefined,
  [from, to]: [number, number],
  style: SparklineStyle,
): { t: number; v: number } | undefined {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(box.width * ratio));
  const height = Math.max(1, Math.round(box.height * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return undefined;
  ctx.clearRect(0, 0, width, height);
  if (!buffer) return undefined;
  const [start, end] = buffer.range(from, to);
  if (end <= start) return undefined;
  let [min, max] = buffer.minMax(start, end);
  if (!(max > min)) [min, max] = [min - 1, max + 1];
  const pad = 3 * ratio;
  const x = (t: number) => ((t - from) / (to - from)) * (width - 2 * pad) + pad;
  const y = (v: number) => height - pad - ((v - min) / (max - min)) * (height - 2 * pad);
  ctx.lineWidth = 1.5 * ratio;
  ctx.strokeStyle = style.line;
  ctx.beginPath();
  for (let i = start; i < end; i++) {
    const px = x(buffer.time(i));
    const py = y(buffer.value(i));
    if (i === start) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  }
  ctx.stroke();
  const newest = { t: buffer.time(end - 1), v: buffer.value(end - 1) };
  ctx.fillStyle = style.dot;
  ctx.beginPath();
  ctx.arc(x(newest.t), y(newest.v), 2.5 * ratio, 0, 2 * Math.PI);
  ctx.fill();
  return newest;
}
