// Device profiles: what a board needs to join Wi-Fi and the broker. The schemas here are the one
// place profile input is validated, for the CLI, the UI and every host alike.
import { z } from 'zod';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export const utf8Length = (text: string) => new TextEncoder().encode(text).length;

/** A string that is valid UTF-8 (no lone surrogates) and has no control characters. */
const text = (what: string) =>
  z
    .string({ error: `${what} must be text` })
    .refine((value) => !LONE_SURROGATE.test(value), `${what} is not valid UTF-8 text`)
    .refine((value) => !CONTROL.test(value), `${what} must not contain control characters`);

export const ProfileName = text('The profile name')
  .transform((value) => value.trim())
  .pipe(
    z.string().min(1, 'The profile name must not be empty').max(64, 'The profile name must be at most 64 characters'),
  );

export const Fqbn = z
  .string()
  .regex(
    /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+(:[A-Za-z0-9_.=,-]+)?$/,
    'The board must be a fully qualified board name such as esp32:esp32:esp32, esp8266:esp8266:nodemcuv2 or arduino:avr:uno',
  );

export const Ssid = text('The Wi-Fi SSID').refine(
  (value) => utf8Length(value) <= 32,
  'The Wi-Fi SSID must be at most 32 bytes (UTF-8)',
);

export const WifiPassword = z
  .string()
  .min(8, 'A WPA2 passphrase has at least 8 characters')
  .max(63, 'A WPA2 passphrase has at most 63 characters')
  .regex(/^[\x20-\x7e]+$/, 'A WPA2 passphrase uses printable ASCII characters only');

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isHostNameOrAddress(host: string): boolean {
  if (IPV4.test(host)) return true;
  if (host.includes(':')) return isIpv6(host);
  if (host.length > 253 || /^[\d.]+$/.test(host)) return false;
  return host
    .replace(/\.$/, '')
    .split('.')
    .every((label) => LABEL.test(label));
}

function isIpv6(host: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(host)) return false;
  try {
    return new URL(`http://[${host}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

export const MqttHost = z
  .string()
  .refine(isHostNameOrAddress, 'The MQTT host must be a host name (broker.lan) or an IP address (192.168.1.10)');
export const Port = z
  .number({ error: 'The port must be a number' })
  .int('The port must be a whole number')
  .min(1, 'The port must be from 1 to 65535')
  .max(65535, 'The port must be from 1 to 65535');
export const MqttUsername = text('The MQTT username').pipe(
  z.string().max(128, 'The MQTT username must be at most 128 characters'),
);
export const MqttPassword = text('The MQTT password').pipe(
  z
    .string()
    .min(1, 'The MQTT password must not be empty (clear it instead)')
    .max(256, 'The MQTT password must be at most 256 characters'),
);
/** A device id: one level of the MQTT topic (also checked on every incoming topic and serial line). */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const DeviceId = z
  .string()
  .regex(
    DEVICE_ID_PATTERN,
    'The device id must be 1 to 64 letters, digits, - or _ (it becomes a level of the MQTT topic)',
  );
export const TelemetryInterval = z
  .number({ error: 'The telemetry interval must be a number of seconds' })
  .int('The telemetry interval must be whole seconds')
  .min(1, 'The telemetry interval must be from 1 to 86400 seconds')
  .max(86400, 'The telemetry interval must be from 1 to 86400 seconds');

/** The non-secret fields of a profile, as stored in the settings file. */
export const ProfileFields = z
  .object({
    name: ProfileName,
    board: Fqbn,
    /** Empty for boards without Wi-Fi (they report over USB serial). */
    wifiSsid: z.union([z.literal(''), Ssid]),
    /** Empty for AVR boards: the serial gateway publishes their telemetry from this computer. */
    mqttHost: z.union([z.literal(''), MqttHost]),
    mqttPort: Port,
    mqttTls: z.boolean(),
    mqttUsername: z.union([z.literal(''), MqttUsername]),
    deviceId: DeviceId,
    telemetryIntervalS: TelemetryInterval,
  })
  .strict();
export type ProfileFields = z.infer<typeof ProfileFields>;

/** How each field is called in messages and forms. */
export const FIELD_LABELS: Record<keyof ProfileFields, string> = {
  name: 'name',
  board: 'board',
  wifiSsid: 'Wi-Fi SSID',
  mqttHost: 'MQTT host',
  mqttPort: 'MQTT port',
  mqttTls: 'TLS setting',
  mqttUsername: 'MQTT username',
  deviceId: 'device id',
  telemetryIntervalS: 'telemetry interval',
};

export const PROFILE_DEFAULTS: Omit<ProfileFields, 'name' | 'board' | 'deviceId'> = {
  wifiSsid: '',
  mqttHost: '',
  mqttPort: 1883,
  mqttTls: false,
  mqttUsername: '',
  telemetryIntervalS: 10,
};

/** Boards that join Wi-Fi and reach the broker themselves (ESP32, ESP8266). */
export function isWifiBoard(fqbn: string): boolean {
  return /^(esp32|esp8266):/.test(fqbn);
}

/** AVR boards (Uno, Nano) report over USB serial; the serial gateway publishes from this computer. */
export function isAvrBoard(fqbn: string): boolean {
  return fqbn.startsWith('arduino:avr:');
}

/** True for localhost, 127.0.0.0/8 and ::1 (also written as ::ffff:127.x.y.z): on a board, the board itself. */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (/^127(\.\d{1,3}){3}$/.test(name)) return true;
  if (!name.includes(':')) return false;
  try {
    const normal = new URL(`http://[${name}]/`).hostname;
    return normal === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(normal);
  } catch {
    return false;
  }
}

/** The address a loopback refusal suggests when this computer's own LAN address is not known. */
export const EXAMPLE_LAN_ADDRESS = '192.168.1.20';

/**
 * Why the profile's MQTT host cannot work on its board, or undefined: a board other than AVR needs
 * a host, and a Wi-Fi board would reach itself at a loopback address. `lanAddress` is this
 * computer's LAN address, named in the reason when known.
 */
export function mqttHostProblem(
  fields: Pick<ProfileFields, 'board' | 'mqttHost'>,
  lanAddress = EXAMPLE_LAN_ADDRESS,
): string | undefined {
  if (fields.mqttHost === '') {
    if (isAvrBoard(fields.board)) return undefined;
    return (
      "Set the profile's MQTT host: it is required for a Wi-Fi board " +
      '(only USB serial boards such as the Uno go without)'
    );
  }
  if (isWifiBoard(fields.board) && isLoopbackHost(fields.mqttHost))
    return `A board connects to itself at ${fields.mqttHost}: use this computer's LAN address, e.g. ${lanAddress}`;
  return undefined;
}

export const SECRET_FIELDS = ['wifiPassword', 'mqttPassword'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

/** A secret change: a new value, null to remove it, absent to keep it. */
export const SecretChanges = z
  .object({ wifiPassword: WifiPassword.nullable().optional(), mqttPassword: MqttPassword.nullable().optional() })
  .strict();
export type SecretChanges = z.infer<typeof SecretChanges>;

export const ProfileId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'A profile id is lower-case letters, digits and -');

/** A profile as the UI and CLI see it: secrets only as set or not set. */
export interface ProfileView extends ProfileFields {
  id: string;
  secrets: Record<SecretField, boolean>;
  updatedAt: string;
}

/** A profile is addressed by its id or its name. */
export const ProfileRef = z.string().min(1, 'Name the profile (its name or id)');

export const ProfileSaveArgs = z
  .object({
    /** Absent: create a new profile. */
    ref: ProfileRef.optional(),
    fields: ProfileFields.partial().strict().default({}),
    secrets: SecretChanges.default({}),
    /** Log in to the local stack's broker as the device's own user (deviceAccounts.ts; the stack must be up). */
    stackDeviceLogin: z.literal(true).optional(),
  })
  .strict()
  .refine(
    (args) =>
      !args.stackDeviceLogin || (args.fields.mqttUsername === undefined && args.secrets.mqttPassword === undefined),
    {
      message: 'The stack device login sets the MQTT user and password itself: leave those out',
    },
  );

export const ProfileRefArgs = z.object({ ref: ProfileRef }).strict();
export const ProfileDuplicateArgs = z.object({ ref: ProfileRef, name: ProfileName }).strict();

export const Passphrase = z.string().min(8, 'The export passphrase must have at least 8 characters').max(1024);

export const ProfileExportArgs = z.object({ ref: ProfileRef, passphrase: Passphrase.optional() }).strict();
export interface ProfileExport {
  fileName: string;
  content: string;
  encrypted: boolean;
}

/** The largest profile export file read (bytes): a real one is about 1 KB, so anything bigger is the wrong file. */
export const PROFILE_FILE_MAX_BYTES = 256 * 1024; // well inside one WebSocket frame
/** Why a file over PROFILE_FILE_MAX_BYTES is refused, after "<file> is <size>". */
export const PROFILE_FILE_TOO_LARGE = 'a Makerdeck profile file is at most 256 KiB: is this the right file?';

export const ProfileImportArgs = z
  .object({
    // UTF-8 decodes to at most one UTF-16 unit per byte, so every file within the byte cap fits.
    content: z.string().max(PROFILE_FILE_MAX_BYTES, `This content is too large: ${PROFILE_FILE_TOO_LARGE}`),
    // The export's rule: a shorter passphrase cannot have sealed a file.
    passphrase: Passphrase.optional(),
    name: ProfileName.optional(),
    /** Replaces the file's MQTT host, e.g. when it names a loopback address a Wi-Fi board cannot use. */
    mqttHost: MqttHost.optional(),
  })
  .strict();

/** An imported profile, with what the user should know about it (e.g. a device id already in use). */
export interface ProfileImportResult extends ProfileView {
  warnings: string[];
}

/** What a new profile's form starts with: the MQTT host a Wi-Fi board should use in the active environment. */
export interface ProfileDefaults {
  environment: 'local' | 'attached';
  /** Local stack: this computer's LAN address ('' when it has none); attached: the broker's host. */
  wifiMqttHost: string;
  mqttPort: number;
}
