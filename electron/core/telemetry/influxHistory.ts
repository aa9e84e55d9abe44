// History from InfluxDB through @influxdata/influxdb-client: one Flux query, decimated to the
// chart's resolution, so a 24-hour window costs about as many points as the chart has pixels.
// InfluxDB 1.8+ answers it in its compatibility mode (token "user:password", bucket "db/rp").
import { InfluxDB, flux, fluxDuration, fluxExpression, fluxString, type QueryApi } from '@influxdata/influxdb-client';
import { MakerdeckError, seriesKey, type DeviceView, type SeriesPoints } from '../../contract';
import type { Endpoints } from '../stack/environment';

export interface HistoryQuery {
  series: Array<{ device: string; field: string }>;
  from: number;
  to: number;
  points: number;
}

const QUERY_TIMEOUT_MS = 15_000;
/** Flux's names for InfluxDB's integer field types: such a series exports as `1i`. */
const INTEGER_COLUMNS = new Set(['long', 'unsignedLong']);

export async function queryHistory(influx: Endpoints['influx'], query: HistoryQuery): Promise<SeriesPoints[]> {
  const api = queryApi(influx);
  // Two points (min and max, with their own times) per pixel column: the chart's own decimation,
  // so a window with fewer points than columns comes back exactly as stored.
  const every = Math.max(1, Math.floor((query.to - query.from) / query.points));
  const matches = query.series.map(({ device, field }) =>
    flux`(r.device == ${fluxString(device)} and r._field == ${fluxString(field)})`.toString(),
  );
  const text = flux`data = from(bucket: ${fluxString(bucketOf(influx.database))})
  |> range(start: ${new Date(query.from)}, stop: ${new Date(query.to)})
  |> filter(fn: (r) => r._measurement == "telemetry")
  |> filter(fn: (r) => ${fluxExpression(matches.join(' or '))})
  |> keep(columns: ["_time", "_value", "_field", "device"])
  |> window(every: ${fluxDuration(`${every}ms`)})
union(tables: [data |> min(), data |> max()])
  |> group(columns: ["device", "_field"])
  |> sort(columns: ["_time"])`;
  const bySeries = new Map(
    query.series.map((s): [string, SeriesPoints] => [seriesKey(s.device, s.field), { ...s, t: [], v: [] }]),
  );
  try {
    for await (const { values, tableMeta } of api.iterateRows(text)) {
      const row = tableMeta.toObject(values) as { _time: string; _value: number; _field: string; device: string };
      const series = bySeries.get(seriesKey(row.device, row._field));
      if (!series || typeof row._value !== 'number') continue;
      if (INTEGER_COLUMNS.has(tableMeta.column('_value').dataType)) series.integer = true;
      const t = Date.parse(row._time);
      if (series.t.at(-1) === t) continue; // a column's only point is both its min and its max
      series.t.push(t);
      series.v.push(row._value);
    }
  } catch (error) {
    throw explainInfluxError(error, influx.url);
  }
  return [...bySeries.values()];
}

/** The devices and fields InfluxDB has seen in a window, with their newest values (for a fresh start). */
export async function queryCatalog(influx: Endpoints['influx'], from: number, to: number): Promise<DeviceView[]> {
  const text = flux`from(bucket: ${fluxString(bucketOf(influx.database))})
  |> range(start: ${new Date(from)}, stop: ${new Date(to)})
  |> filter(fn: (r) => r._measurement == "telemetry")
  |> group(columns: ["device", "_field"])
  |> last()
  |> keep(columns: ["_time", "_value", "_field", "device"])`;
  const devices = new Map<string, DeviceView>();
  try {
    for await (const { values, tableMeta } of queryApi(influx).iterateRows(text)) {
      const row = tableMeta.toObject(values) as { _time: string; _value: unknown; _field: string; device?: string };
      if (!row.device || typeof row._value !== 'number' || typeof row._field !== 'string') continue;
      const seen = devices.get(row.device);
      const device: DeviceView = seen ?? { device: row.device, status: 'unknown', source: 'mqtt', last: [] };
      const t = Date.parse(row._time);
      device.last.push({ field: row._field, t, v: row._value }); // one row per device and field (last())
      device.lastSeen = Math.max(device.lastSeen ?? 0, t);
      devices.set(row.device, device);
    }
  } catch (error) {
    throw explainInfluxError(error, influx.url);
  }
  return [...devices.values()];
}

function queryApi(influx: Endpoints['influx']): QueryApi {
  // 1.x: "user:password"; 2.x and Cloud: the token alone (kept in the password field).
  const token = influx.username ? `${influx.username}:${influx.password ?? ''}` : (influx.password ?? '');
  return new InfluxDB({ url: influx.url, token, timeout: QUERY_TIMEOUT_MS }).getQueryApi({ org: '-', gzip: false });
}

/** A 1.x database alone means its default retention policy. */
function bucketOf(database: string): string {
  return database.includes('/') ? database : `${database}/autogen`;
}

function explainInfluxError(error: unknown, url: string): MakerdeckError {
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e.statusCode === 401 || e.statusCode === 403)
    return new MakerdeckError(
      'UNAVAILABLE',
      `InfluxDB at ${url} refused the credentials: check the environment (makerdeck env show)`,
    );
  if (e.statusCode === 404)
    return new MakerdeckError(
      'UNAVAILABLE',
      `InfluxDB at ${url} has no Flux query API: enable flux-enabled = true (InfluxDB 1.8+) or use InfluxDB 2`,
    );
  const reason = e.code ?? e.message?.split('\n')[0] ?? String(error);
  return new MakerdeckError(
    'UNAVAILABLE',
    `InfluxDB at ${url} cannot be reached (${reason}): start the stack (makerdeck stack up) or check the InfluxDB URL`,
  );
}
