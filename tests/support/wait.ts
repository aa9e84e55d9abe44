import type { Host } from '../../electron/core/host';

/** What `until` hands back: the probe's answer once it is neither false nor undefined. */
export type Arrived<T> = Exclude<T, false | undefined>;

/**
 * The one way tests wait: polls `probe` (every `everyMs`, 25 ms by default) until it returns something
 * other than false or undefined, and returns that; throws naming `what` after `ms`. No test sleeps in
 * place of a condition.
 */
export async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  ms = 15_000,
  everyMs = 25,
): Promise<Arrived<T>> {
  for (const end = Date.now() + ms; ; await new Promise((resolve) => setTimeout(resolve, everyMs))) {
    const value = await probe();
    if (value !== false && value !== undefined) return value as Arrived<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }
}

/** One request through a host, as a transport would make it; a refusal throws its message. */
export async function callHost<T>(host: Host, name: string, args: unknown): Promise<T> {
  const reply = await host.call(name, args);
  if (!reply.ok) throw new Error(`${name}: ${reply.error.message}`);
  return reply.value as T;
}

/**
 * `environment.set` arguments attaching a test broker, with InfluxDB on a port nothing serves: the
 * telemetry tests read the broker only.
 */
export function attachedBroker(mqttUrl: string) {
  return {
    environment: { kind: 'attached', mqttUrl, influxUrl: 'http://127.0.0.1:9', influxDatabase: 'makerdeck' },
  } as const;
}
