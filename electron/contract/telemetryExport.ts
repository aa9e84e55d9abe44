// The chart's visible window as a file (the renderer exports what is on screen, history included): CSV for spreadsheets, or line protocol to load into any InfluxDB
// (one line per device and timestamp, its fields together, as the devices sent them).
import type { SeriesPoints } from './telemetry';

/** CSV, one row per point, oldest first; never throws, whatever the names and numbers. */
export function toCsv(series: SeriesPoints[]): string {
  const rows = series.flatMap((s) => s.t.map((t, i) => ({ t, device: s.device, field: s.field, v: s.v[i]! })));
  rows.sort((a, b) => a.t - b.t || a.device.localeCompare(b.device) || a.field.localeCompare(b.field));
  const lines = rows.map((r) => `${isoTime(r.t)},${r.t},${csvText(r.device)},${csvText(r.field)},${r.v}`);
  return ['time,time_ms,device,field,value', ...lines].join('\n') + '\n';
}

/**
 * Line protocol; points of one device that share a millisecond stay separate lines (the k-th with
 * the k-th). Integer series keep their `i`: InfluxDB keeps a field's first type and refuses points
 * of another, so an export loaded back must not turn `512i` into `512` (a float).
 */
export function toLineProtocol(series: SeriesPoints[]): string {
  const points = new Map<string, Array<{ device: string; t: number; fields: string[] }>>();
  for (const s of series) {
    let previous = NaN;
    let k = 0;
    s.t.forEach((t, i) => {
      if (!Number.isSafeInteger(t) || !Number.isFinite(s.v[i])) return; // line protocol has no way to say it
      k = t === previous ? k + 1 : 0;
      previous = t;
      const id = `${s.device}\u0000${t}`;
      let atTime = points.get(id);
      if (!atTime) points.set(id, (atTime = []));
      (atTime[k] ??= { device: s.device, t, fields: [] }).fields.push(`${escapeKey(s.field)}=${fieldValue(s, i)}`);
    });
  }
  const sorted = [...points.values()].flat().sort((a, b) => a.t - b.t || a.device.localeCompare(b.device));
  const lines = sorted.map((p) => `telemetry,device=${escapeKey(p.device)} ${p.fields.join(',')} ${nanos(p.t)}`);
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** `512i` for a series sent as integers, else the number as it is (a float to line protocol). */
function fieldValue(s: SeriesPoints, i: number): string {
  const v = s.v[i]!;
  return s.integer && Number.isSafeInteger(v) ? `${v}i` : `${v}`;
}

/**
 * Quotes when needed; a leading = + - @ TAB or CR would make a spreadsheet run the cell as a
 * formula (OWASP's CSV injection list), so such a cell starts with a ' instead.
 */
function csvText(raw: string): string {
  const text = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Tag keys/values and field keys escape comma, equals, space and backslash. */
function escapeKey(text: string): string {
  return text.replace(/[,= \\]/g, (c) => `\\${c}`);
}

/** ms to ns as digits (a negative time keeps its sign in front). */
function nanos(t: number): string {
  return t < 0 ? `-${-t}000000` : t === 0 ? '0' : `${t}000000`;
}

/** ISO 8601, or "" for a time no Date can hold (an exporter or printer must not throw). */
export function isoTime(t: number): string {
  return Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : '';
}
