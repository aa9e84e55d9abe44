// Where the backing services are: the local Docker stack, or attached ones (a lab's shared broker
// and InfluxDB, a RabbitMQ cluster, InfluxDB Cloud). Everything that talks MQTT or InfluxDB asks this.
import { z } from 'zod';

const ServiceUrl = (what: string, protocols: string[]) =>
  z
    .string()
    .max(2048)
    .refine((value) => {
      try {
        const url = new URL(value);
        return protocols.includes(url.protocol) && url.hostname.length > 0 && !url.username && !url.password;
      } catch {
        return false;
      }
    }, `The ${what} URL must look like ${protocols[0]}//host:port, without a user or password in it (those go in the credential fields)`);

export const MqttUrl = ServiceUrl('MQTT broker', ['mqtt:', 'mqtts:', 'ws:', 'wss:']);
export const InfluxUrl = ServiceUrl('InfluxDB', ['http:', 'https:']);

export const AttachedEnvironment = z
  .object({
    kind: z.literal('attached'),
    mqttUrl: MqttUrl,
    mqttUsername: z.string().max(128).default(''),
    influxUrl: InfluxUrl,
    /** InfluxDB 1.x database, or a 2.x/Cloud bucket. */
    influxDatabase: z.string().min(1, 'Name the InfluxDB database or bucket').max(128),
    influxUsername: z.string().max(128).default(''),
  })
  .strict();

export const EnvironmentSettings = z.union([z.object({ kind: z.literal('local') }).strict(), AttachedEnvironment]);
export type EnvironmentSettings = z.infer<typeof EnvironmentSettings>;

export const EnvironmentSetArgs = z
  .object({
    environment: EnvironmentSettings,
    /** New secrets for an attached environment; absent keeps the stored ones, null removes them. */
    secrets: z
      .object({
        mqttPassword: z.string().min(1).max(1024).nullable().optional(),
        influxPassword: z.string().min(1).max(4096).nullable().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

/** The endpoints in use, as the UI and CLI see them (secrets only as set or not). */
export interface EnvironmentView {
  kind: 'local' | 'attached';
  mqtt: { url: string; username: string; passwordSet: boolean };
  influx: { url: string; database: string; username: string; passwordSet: boolean };
}
