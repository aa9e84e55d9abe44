// Deleting devices' points from InfluxDB 1.x (a lab reset between classes): an InfluxQL DELETE per
// device through /query. (InfluxDB 1.8 has no /api/v2/delete: it answers 404, tested on the stack.)
import { MakerdeckError } from '../../contract';
import type { Endpoints } from '../stack/environment';

const TIMEOUT_MS = 15_000;

/**
 * Throws one line unless InfluxDB is 1.x and answers a query on the database with these
 * credentials: checked before a reset changes anything, so a 2.x server (where InfluxQL cannot
 * DELETE) never leaves a reset stuck half-way.
 */
export async function checkInflux(influx: Endpoints['influx']): Promise<void> {
  await influxQl(influx, 'SHOW MEASUREMENTS LIMIT 1', 'GET');
  const version = await fetch(new URL('/ping', influx.url), { signal: AbortSignal.timeout(TIMEOUT_MS) })
    .then((response) => response.headers.get('x-influxdb-version'))
    .catch(() => null);
  if (version && !version.startsWith('1.'))
    throw new MakerdeckError(
      'UNAVAILABLE',
      `InfluxDB at ${influx.url} is ${version.slice(0, 20)}: deleting points needs InfluxDB 1.x ` +
        "(reset without --drop-data and delete them in InfluxDB's own UI)",
    );
}

/** Deletes every point of the measurement tagged with each device; resolves with the ids done. */
export async function deleteDevicePoints(
  influx: Endpoints['influx'],
  deviceIds: string[],
  measurement = 'telemetry',
): Promise<string[]> {
  const done: string[] = [];
  for (const id of deviceIds) {
    await influxQl(influx, `DELETE FROM ${identifier(measurement)} WHERE "device" = ${literal(id)}`, 'POST');
    done.push(id);
  }
  return done;
}

async function influxQl(influx: Endpoints['influx'], query: string, method: 'GET' | 'POST'): Promise<void> {
  const url = new URL('/query', influx.url);
  url.searchParams.set('db', influx.database.split('/')[0]!);
  url.searchParams.set('q', query);
  const headers: Record<string, string> = {};
  if (influx.username)
    headers.Authorization = `Basic ${Buffer.from(`${influx.username}:${influx.password ?? ''}`).toString('base64')}`;
  else if (influx.password) headers.Authorization = `Token ${influx.password}`;
  let response: Response;
  try {
    response = await fetch(url, { method, headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    const reason = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    throw new MakerdeckError(
      'UNAVAILABLE',
      `InfluxDB at ${influx.url} cannot be reached (${reason}): start the stack (makerdeck stack up) or check the InfluxDB URL`,
    );
  }
  const text = await response.text();
  if (response.status === 401 || response.status === 403)
    throw new MakerdeckError('UNAVAILABLE', `InfluxDB at ${influx.url} refused the credentials: makerdeck env show`);
  const error = errorOf(text);
  if (!response.ok || error)
    throw new MakerdeckError(
      'UNAVAILABLE',
      `InfluxDB at ${influx.url} refused "${query.split(' ')[0]}" (HTTP ${response.status}: ${error ?? 'no answer'}): ` +
        'points can be deleted on InfluxDB 1.x only',
    );
}

/** The first error in an InfluxQL answer ({error} or results[].error). */
function errorOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: string; results?: Array<{ error?: string }> };
    return (body.error ?? body.results?.find((r) => r.error)?.error)?.slice(0, 200);
  } catch {
    return text.trim().slice(0, 200) || undefined;
  }
}

function identifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
