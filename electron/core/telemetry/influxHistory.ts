// History from InfluxDB through @influxdata/influxdb-client: one Flux query, aggregated to the
// chart's resolution, so a 24-hour window costs about as many points as the chart has pixels.
// InfluxDB 1.8+ answers it in its compatibility mode (token "user:password", bucket "db/rp").
import { InfluxDB, flux, fluxDuration, fluxExpression, fluxString, type QueryApi } from '@influxdata/influxdb-client';
import { MakerdeckError, type SeriesPoints } from '../../contract';
import type { Endpoints } from '../stack/environment';

export interface HistoryQuery {
  series: Array<{ device: string; field: string }>;
  from: number;
  to: number;
  points: number;
}

const QUERY_TIMEOUT_MS = 15_000;

export async function queryHistory(influx: Endpoints['influx'], query: HistoryQuery): Promise<SeriesPoints[]> {
  const api = queryApi(influx);
  const every = Math.max(1, Math.floor((query.to - query.from) / query.points));
  const matches = query.series.map(({ device, field }) => flux`(r.device == ${fluxString(device)} and r._field == ${fluxString(field)})`.toString());
  const text = flux`from(bucket: ${fluxString(bucketOf(influx.database))})
  |> range(start: ${new Date(query.from)}, stop: ${new Date(query.to)})
  |> filter(fn: (r) => r._measurement == "telemetry")
  |> filter(fn: (r) => ${fluxExpression(matches.join(' or '))})
  |> aggregateWindow(every: ${fluxDuration(`${every}ms`)}, fn: mean, createEmpty: false)
  |> keep(columns: ["_time", "_value", "_field", "device"])`;
  const bySeries = new Map(query.series.map((s) => [`${s.device}\u0000${s.field}`, { ...s, t: [] as number[], v: [] as number[] }]));
  try {
    for await (const { values, tableMeta } of api.iterateRows(text)) {
      const row = tableMeta.toObject(values) as { _time: string; _value: number; _field: string; device: string };
      const series = bySeries.get(`${row.device}\u0000${row._field}`);
      if (!series || typeof row._value !== 'number') continue;
      series.t.push(Date.parse(row._time));
      series.v.push(row._value);
    }
  } catch (error) {
    throw explainInfluxError(error, influx.url);
  }
  return [...bySeries.values()];
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
  if (e.statusCode === 401 || e.statusCode === 403) return new MakerdeckError('UNAVAILABLE', `InfluxDB at ${url} refused the credentials: check the environment (makerdeck env show)`);
  if (e.statusCode === 404) return new MakerdeckError('UNAVAILABLE', `InfluxDB at ${url} has no Flux query API: enable flux-enabled = true (InfluxDB 1.8+) or use InfluxDB 2`);
  const reason = e.code ?? e.message?.split('\n')[0] ?? String(error);
  return new MakerdeckError('UNAVAILABLE', `InfluxDB at ${url} cannot be reached (${reason}): start the stack (makerdeck stack up) or check the InfluxDB URL`);
}
