// The backing stack: start, stop and watch the local Docker services.
import { z } from 'zod';
import { OperationId } from './firmware';

export const STACK_PROFILES = ['core', 'full'] as const;
export const StackProfile = z.enum(STACK_PROFILES, {
  error: 'The stack profile is core (broker, InfluxDB, Telegraf) or full (all seven services)',
});

export const StackUpArgs = z
  .object({ profile: StackProfile.default('core'), operationId: OperationId.optional() })
  .strict();
export const StackStatusArgs = z.object({ profile: StackProfile.default('full') }).strict();
export const StackResetArgs = z
  .object({
    confirm: z.literal(true, {
      error: 'Resetting deletes all stack data (InfluxDB, Grafana, …): confirm it explicitly',
    }),
  })
  .strict();
export const StackServiceArgs = z
  .object({
    service: z.string().regex(/^[a-z0-9-]{1,40}$/, 'Name a service of the stack'),
    operationId: OperationId.optional(),
  })
  .strict();
export const StackLogsArgs = z
  .object({
    service: z.string().regex(/^[a-z0-9-]{1,40}$/, 'Name a service of the stack'),
    tail: z.number().int().min(1).max(10_000).default(200),
  })
  .strict();
export const StackFollowLogsArgs = StackLogsArgs.extend({ operationId: OperationId }).strict();

export interface StackLogLines {
  operationId: string;
  service: string;
  lines: string[];
}

export interface StackServiceView {
  name: string;
  /** missing, created, running, exited, restarting, … */
  state: string;
  health?: string;
  ports: Array<{ hostIp: string; hostPort: number; containerPort: number }>;
  startedAt?: string;
  /** Web consoles a person can open. */
  links: Array<{ label: string; url: string }>;
  /** The stack profiles (core, full) that start this service; none: every profile. */
  profiles?: string[];
  /** Data lost while running, e.g. Telegraf's "dropping points: field type conflict: x is integer, got float". */
  problem?: string;
}

/** InfluxDB's field types, as its errors name them. */
export type InfluxFieldType = 'float' | 'integer' | 'unsigned' | 'string' | 'boolean';

/** InfluxDB refused a point: the field already has another type in that measurement. */
export interface FieldTypeConflict {
  measurement: string;
  field: string;
  stored: InfluxFieldType;
  got: InfluxFieldType;
  lastAt: number;
}

/** What Telegraf's log says about writing to InfluxDB lately (undefined: nothing lost). */
export interface TelegrafLoss {
  state: 'dropping' | 'failing';
  /** "dropping points: <why>" or "not writing to InfluxDB: <why> (…)". */
  message: string;
  /** Telegraf's own time of the newest such line, ms. */
  lastAt: number;
  /** Such lines in the window. */
  count: number;
  conflicts: FieldTypeConflict[];
}

export interface StackProgressEvent {
  operationId?: string;
  /** A service name, or an image name while pulling, exporting or importing. */
  service: string;
  phase:
    | 'pull'
    | 'create'
    | 'start'
    | 'wait'
    | 'healthy'
    | 'running'
    | 'provision'
    | 'stop'
    | 'remove'
    | 'export'
    | 'import';
  message?: string;
  bytesDone?: number;
  bytesTotal?: number;
}

const BundleFile = z.string().min(1, 'Name the image bundle file').max(4096);
export const StackExportArgs = z.object({ file: BundleFile, profile: StackProfile.default('full') }).strict();
export const StackImportArgs = z.object({ file: BundleFile }).strict();

/** The broker's MQTT port, the only one the LAN choice opens. */
export const BROKER_MQTT_PORT = 1883;

/** What opening the broker to the LAN exposes, said next to the choice in the UI and the CLI. */
export const LAN_BROKER_NOTE =
  `Opens the MQTT port (${BROKER_MQTT_PORT}) on every network interface of this computer. Boards log in with ` +
  'their own device login only (no guest or anonymous login); the management console, InfluxDB and the ' +
  'other services stay on 127.0.0.1.';

export const StackSetLanArgs = z
  .object({
    enabled: z.boolean({ error: 'Say whether the broker is open to the LAN: true or false' }),
    operationId: OperationId.optional(),
  })
  .strict();

/** The LAN choice for the local broker, and the addresses boards on the LAN reach it at. */
export interface StackLanView {
  enabled: boolean;
  port: number;
  /** This computer's non-internal IPv4 addresses, private ranges first: what a board's MQTT host should be. */
  addresses: string[];
  /** Set after a change: the broker was re-created with it now, or it applies at the next stack up. */
  applied?: 'now' | 'next-up';
}
