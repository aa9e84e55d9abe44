// The plotter: every numeric series on one canvas, min/max per pixel column so 10,000+ points per
// series draw in one pass at any width.
import { useEffect, useRef } from 'react';
import type { SeriesBuffer } from './lineBuffer';

const COLORS = ['#2b6cb0', '#c53030', '#2f855a', '#b7791f', '#6b46c1', '#dd6b20', '#319795', '#d53f8c'];

export function Plotter({ series, version }: { series: Map<string, SeriesBuffer>; version: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const element = canvas.current;
    const context = element?.getContext('2d');
    if (!element || !context) return;
    const frame = requestAnimationFrame(() => draw(element, context, series));
    return () => cancelAnimationFrame(frame);
  }, [series, version]);

  return (
    <div className="plotter">
      <canvas ref={canvas} width={900} height={260} data-testid="plotter" data-series={[...series.keys()].join(',')} />
      <ul className="legend">
        {[...series.entries()].map(([name, buffer], i) => (
          <li key={name}>
            <span className="swatch" style={{ background: COLORS[i % COLORS.length] }} /> {name} ({buffer.length}{' '}
            points)
          </li>
        ))}
      </ul>
    </div>
  );
}

function draw(canvas: HTMLCanvasElement, context: CanvasRenderingContext2D, series: Map<string, SeriesBuffer>): void {
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  let minT = Infinity;
  let maxT = -Infinity;
  let minV = Infinity;
  let maxV = -Infinity;
  for (const buffer of series.values()) {
    if (buffer.length === 0) continue;
    minT = Math.min(minT, buffer.time(0));
    maxT = Math.max(maxT, buffer.time(buffer.length - 1));
    for (let i = 0; i < buffer.length; i++) {
      const v = buffer.value(i);
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
  }
  if (!Number.isFinite(minT)) return;
  const spanT = maxT - minT || 1;
  const spanV = maxV - minV || 1;
  const y = (v: number) => height - 4 - ((v - minV) / spanV) * (height - 8);
  [...series.values()].forEach((buffer, index) => {
    context.strokeStyle = COLORS[index % COLORS.length]!;
    context.beginPath();
    let column = -1;
    let low = 0;
    let high = 0;
    for (let i = 0; i < buffer.length; i++) {
      const x = Math.floor(((buffer.time(i) - minT) / spanT) * (width - 1));
      const v = buffer.value(i);
      if (x !== column) {
        if (column >= 0) {
          context.lineTo(column, y(low));
          context.lineTo(column, y(high));
        } else context.moveTo(x, y(v));
        column = x;
        low = high = v;
      } else {
        low = Math.min(low, v);
        high = Math.max(high, v);
      }
    }
    if (column >= 0) {
      context.lineTo(column, y(low));
      context.lineTo(column, y(high));
    }
    context.stroke();
  });
  context.fillStyle = '#4a5568';
  context.fillText(String(Number(maxV.toPrecision(4))), 4, 12);
  context.fillText(String(Number(minV.toPrecision(4))), 4, height - 6);
}
