import { afterEach, describe, expect, it, vi } from 'vitest';
import type uPlot from 'uplot';
import { columnPaths } from '../../renderer/src/pages/telemetry/chart/columnPaths';

/** Path2D stand-in that records the calls (node has no canvas). */
class RecordingPath {
  calls: string[] = [];
  moveTo(x: number, y: number) {
    this.calls.push(`M${x},${y}`);
  }
  lineTo(x: number, y: number) {
    this.calls.push(`L${x},${y}`);
  }
}

function chart(x: number[], y: number[]): uPlot {
  return {
    data: [Float64Array.from(x), Float64Array.from(y)],
    scales: { x: { min: 0, max: 100 }, y: { min: 0, max: 10 } },
    series: [{}, { scale: 'y' }],
    bbox: { left: 50, top: 10, width: 1000, height: 200 },
  } as unknown as uPlot;
}

describe('columnPaths', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('draws the points in canvas pixels, steps over NaN, breaks at marked gaps and skips repeated pixels', () => {
    vi.stubGlobal('Path2D', RecordingPath);
    const u = chart([0, 10, 10.01, 20, 30, 40, 50], [0, 5, 5.001, NaN, 10, NaN, 2]);
    const gaps = new Uint8Array([0, 0, 0, 0, 0, 1, 0]);
    const paths = columnPaths(() => gaps)(u, 1, 0, 6) as unknown as { stroke: RecordingPath };
    // x: 50 + x · 10, y: 210 − y · 20
    expect(paths.stroke.calls).toEqual([
      'M50,210',
      'L150,110',
      /* 10.01 → same pixel, skipped; NaN at 20 stepped over */ 'L350,10',
      /* gap at 40 */ 'M550,170',
    ]);
  });
});
