// `makerdeck profile list|show|set|rm|duplicate|export|import` over the profiles requests.
import { writeFile } from 'node:fs/promises';
import { MakerdeckError, isWifiBoard, type ProfileView } from '../../contract';
import { callApi, runAction, stringOption, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';
import { readProfileFile } from '../readProfileFile';
import { SecretInput } from '../secretInput';

type Values = CommandContext['values'];

const USAGE = [
  'makerdeck profile list [--json]',
  'makerdeck profile show NAME [--json]',
  'makerdeck profile set NAME [--board FQBN] [--ssid SSID] [--mqtt-host HOST] [--mqtt-port N] [--tls|--no-tls] [--mqtt-user USER]',
  '                           [--device-id ID] [--interval SECONDS] [--rename NEW] [--wifi-password] [--mqtt-password]',
  '                           [--clear-wifi-password] [--clear-mqtt-password] [--stack-login] [--json]',
  'makerdeck profile rm NAME [--json]',
  'makerdeck profile duplicate NAME NEW-NAME [--json]',
  'makerdeck profile export NAME FILE [--encrypt] [--json]',
  'makerdeck profile import FILE [--name NEW-NAME] [--mqtt-host HOST] [--json]',
  '',
  '--wifi-password / --mqtt-password ask for the secret at a hidden prompt, or read it from stdin',
  '(one per line, Wi-Fi first) — never give a secret on the command line. --encrypt asks for the',
  'passphrase twice (or reads it twice, on two lines of stdin); encrypted imports read it once.',
].join('\n');

function positional(context: CommandContext, index: number, what: string): string {
  const value = context.positionals[index];
  if (value === undefined)
    throw new MakerdeckError('BAD_INPUT', `Name the ${what}: ${USAGE.split('\n')[0]} … (see makerdeck profile --help)`);
  return value;
}

function expectPositionals(context: CommandContext, count: number): void {
  // Never echo extra arguments: a secret typed on the command line by mistake must not be printed.
  if (context.positionals.length > count + 1) {
    throw new MakerdeckError(
      'BAD_INPUT',
      `Too many arguments for "profile ${context.positionals[0]}" (secrets never go on the command line: use --wifi-password or --mqtt-password and type them at the prompt)`,
    );
  }
}

function integer(values: Values, key: string, what: string): number | undefined {
  const value = stringOption(values, key);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new MakerdeckError('BAD_INPUT', `--${key} must be a whole number (${what})`);
  return Number(value);
}

function fieldsFrom(values: Values) {
  if (values.tls && values['no-tls']) throw new MakerdeckError('BAD_INPUT', 'Give either --tls or --no-tls, not both');
  const fields = {
    name: stringOption(values, 'rename'),
    board: stringOption(values, 'board'),
    wifiSsid: stringOption(values, 'ssid'),
    mqttHost: stringOption(values, 'mqtt-host'),
    mqttPort: integer(values, 'mqtt-port', 'a port from 1 to 65535'),
    mqttTls: values.tls ? true : values['no-tls'] ? false : undefined,
    mqttUsername: stringOption(values, 'mqtt-user'),
    deviceId: stringOption(values, 'device-id'),
    telemetryIntervalS: integer(values, 'interval', 'seconds from 1 to 86400'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

async function secretsFrom(values: Values) {
  const input = new SecretInput();
  const secrets: { wifiPassword?: string | null; mqttPassword?: string | null } = {};
  if (values['wifi-password'] && values['clear-wifi-password'])
    throw new MakerdeckError('BAD_INPUT', 'Give either --wifi-password or --clear-wifi-password');
  if (values['mqtt-password'] && values['clear-mqtt-password'])
    throw new MakerdeckError('BAD_INPUT', 'Give either --mqtt-password or --clear-mqtt-password');
  if (values['wifi-password']) secrets.wifiPassword = await input.read('Wi-Fi password');
  if (values['mqtt-password']) secrets.mqttPassword = await input.read('MQTT password');
  if (values['clear-wifi-password']) secrets.wifiPassword = null;
  if (values['clear-mqtt-password']) secrets.mqttPassword = null;
  return secrets;
}

/** A new Wi-Fi board without --mqtt-host gets the host boards reach the active environment's broker at. */
async function defaultHost(context: CommandContext, fields: Record<string, unknown>): Promise<void> {
  if (fields.mqttHost !== undefined || typeof fields.board !== 'string' || !isWifiBoard(fields.board)) return;
  const defaults = await callApi(context, 'profiles.defaults', {});
  if (!defaults.wifiMqttHost) return; // the save says the host is required
  fields.mqttHost = defaults.wifiMqttHost;
  if (fields.mqttPort === undefined) fields.mqttPort = defaults.mqttPort;
  const what = defaults.environment === 'local' ? "this computer's LAN address" : "the attached broker's host";
  if (!context.out.json)
    process.stderr.write(`makerdeck: MQTT host ${defaults.wifiMqttHost}, ${what} (--mqtt-host sets another)\n`);
}

/** The export passphrase, typed twice: a typo would seal the secrets with a passphrase nobody knows. */
async function confirmedPassphrase(): Promise<string> {
  const input = new SecretInput();
  const passphrase = await input.read('Passphrase for the export');
  const again = await input.read('same passphrase again');
  if (again !== passphrase)
    throw new MakerdeckError('BAD_INPUT', 'The two passphrases differ: nothing was exported; type the same one twice');
  return passphrase;
}

function printProfile(context: CommandContext, profile: ProfileView): void {
  const secret = (set: boolean) => (set ? '•••••••• (set)' : '(not set)');
  const out = context.out;
  out.text(`${profile.name}  (id ${profile.id})`);
  out.text(`  board           ${profile.board}`);
  out.text(`  Wi-Fi SSID      ${profile.wifiSsid || '(none: reports over USB serial)'}`);
  out.text(`  Wi-Fi password  ${secret(profile.secrets.wifiPassword)}`);
  const user = profile.mqttUsername ? `, user ${profile.mqttUsername}` : '';
  const broker = profile.mqttHost
    ? `${profile.mqttHost}:${profile.mqttPort} (TLS ${profile.mqttTls ? 'on' : 'off'})${user}`
    : '(none: the serial gateway publishes from this computer)';
  out.text(`  MQTT broker     ${broker}`);
  out.text(`  MQTT password   ${secret(profile.secrets.mqttPassword)}`);
  out.text(`  device id       ${profile.deviceId}  (topic makerdeck/${profile.deviceId}/telemetry)`);
  out.text(`  interval        ${profile.telemetryIntervalS} s`);
}

const actions: Record<string, (context: CommandContext) => Promise<number>> = {
  async list(context) {
    expectPositionals(context, 0);
    const profiles = await callApi(context, 'profiles.list', {});
    context.out.data(profiles);
    if (profiles.length === 0)
      context.out.text('No profiles yet: makerdeck profile set NAME --board FQBN --mqtt-host HOST --device-id ID');
    for (const p of profiles)
      context.out.text(
        `${p.name.padEnd(24)} ${p.board.padEnd(28)} ${p.deviceId.padEnd(16)} ${p.mqttHost}:${p.mqttPort}`,
      );
    return EXIT.ok;
  },
  async show(context) {
    expectPositionals(context, 1);
    const profile = await callApi(context, 'profiles.get', { ref: positional(context, 1, 'profile') });
    context.out.data(profile);
    printProfile(context, profile);
    return EXIT.ok;
  },
  async set(context) {
    expectPositionals(context, 1);
    const name = positional(context, 1, 'profile');
    const existing = await callApi(context, 'profiles.get', { ref: name }).catch((error: unknown) => {
      if (error instanceof MakerdeckError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    });
    const fields = fieldsFrom(context.values);
    if (!existing) await defaultHost(context, fields);
    const secrets = await secretsFrom(context.values);
    const stackDeviceLogin = context.values['stack-login'] ? (true as const) : undefined;
    const saved = await callApi(
      context,
      'profiles.save',
      existing
        ? { ref: existing.id, fields, secrets, stackDeviceLogin }
        : { fields: { name, ...fields }, secrets, stackDeviceLogin },
    );
    context.out.data(saved);
    context.out.text(`${existing ? 'Updated' : 'Created'} profile "${saved.name}" (id ${saved.id}).`);
    printProfile(context, saved);
    return EXIT.ok;
  },
  async rm(context) {
    expectPositionals(context, 1);
    const removed = await callApi(context, 'profiles.delete', { ref: positional(context, 1, 'profile') });
    context.out.data(removed);
    context.out.text(`Deleted profile ${removed.id} and its keychain entries.`);
    return EXIT.ok;
  },
  async duplicate(context) {
    expectPositionals(context, 2);
    const copy = await callApi(context, 'profiles.duplicate', {
      ref: positional(context, 1, 'profile'),
      name: positional(context, 2, 'new profile name'),
    });
    context.out.data(copy);
    context.out.text(`Created "${copy.name}" (id ${copy.id}) as a copy, secrets included.`);
    return EXIT.ok;
  },
  async export(context) {
    expectPositionals(context, 2);
    const ref = positional(context, 1, 'profile');
    const file = positional(context, 2, 'file to write');
    const passphrase = context.values.encrypt ? await confirmedPassphrase() : undefined;
    const exported = await callApi(context, 'profiles.export', { ref, passphrase });
    await writeFile(file, exported.content, { mode: 0o600 });
    context.out.data({ file, encrypted: exported.encrypted });
    context.out.text(
      exported.encrypted
        ? `Wrote ${file} with the secrets encrypted by your passphrase.`
        : `Wrote ${file} without secrets (add --encrypt to include them).`,
    );
    return EXIT.ok;
  },
  async import(context) {
    expectPositionals(context, 1);
    const file = positional(context, 1, 'exported file');
    const content = await readProfileFile(file);
    const encrypted = /"secrets"\s*:/.test(content);
    const passphrase = encrypted ? await new SecretInput().read('Passphrase of the export') : undefined;
    const imported = await callApi(context, 'profiles.import', {
      content,
      passphrase,
      name: stringOption(context.values, 'name'),
      mqttHost: stringOption(context.values, 'mqtt-host'),
    });
    context.out.data(imported);
    context.out.text(
      `Imported "${imported.name}" (id ${imported.id})${encrypted ? ' with its secrets, now in your keychain' : ' without secrets'}.`,
    );
    for (const warning of imported.warnings) process.stderr.write(`makerdeck: warning: ${warning}\n`);
    return EXIT.ok;
  },
};

export const profileCommand: Command = {
  name: 'profile',
  summary: 'Device profiles: Wi-Fi and MQTT settings, secrets in the OS keychain',
  usage: USAGE,
  positionals: true,
  options: {
    board: { type: 'string', description: 'board FQBN, e.g. esp32:esp32:esp32 or arduino:avr:uno' },
    ssid: { type: 'string', description: 'Wi-Fi network name (empty for boards without Wi-Fi)' },
    'mqtt-host': {
      type: 'string',
      description: "MQTT broker host name or address (a Wi-Fi board needs this computer's LAN address, not 127.0.0.1)",
    },
    'mqtt-port': { type: 'string', description: 'MQTT broker port (default 1883)' },
    tls: { type: 'boolean', description: 'connect to the broker with TLS' },
    'no-tls': { type: 'boolean', description: 'connect without TLS' },
    'mqtt-user': { type: 'string', description: 'MQTT username' },
    'device-id': { type: 'string', description: 'device id, used in the MQTT topic' },
    interval: { type: 'string', description: 'telemetry interval in seconds (default 10)' },
    rename: { type: 'string', description: 'new name for the profile' },
    'wifi-password': { type: 'boolean', description: 'ask for the Wi-Fi password (prompt or stdin)' },
    'mqtt-password': { type: 'boolean', description: 'ask for the MQTT password (prompt or stdin)' },
    'clear-wifi-password': { type: 'boolean', description: 'remove the stored Wi-Fi password' },
    'clear-mqtt-password': { type: 'boolean', description: 'remove the stored MQTT password' },
    'stack-login': {
      type: 'boolean',
      description: "log in to the local stack's broker as its device user (from the keychain)",
    },
    encrypt: { type: 'boolean', description: 'export: include the secrets, encrypted with a passphrase' },
    name: { type: 'string', description: 'import: the name for the imported profile' },
  },
  run: (context) => runAction(context, 'profile', actions),
};
