// `makerdeck device info|scan --port P` and `makerdeck provision --port P …`: a running board over USB
// serial. The Wi-Fi password is typed at a hidden prompt or read from stdin, never taken from argv.
import { MakerdeckError, type DeviceInfo } from '../../contract';
import { callApi, runAction, stringOption, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';
import { SecretInput } from '../secretInput';

function portOf(context: CommandContext, usage: string): string {
  const port = stringOption(context.values, 'port');
  if (!port) throw new MakerdeckError('BAD_INPUT', `Name the board's port: ${usage} (makerdeck ports lists them)`);
  return port;
}

function printInfo(context: CommandContext, info: DeviceInfo): void {
  const out = context.out;
  out.text(`${info.deviceId || '(no device id)'} on ${info.port}: ${info.firmware} build ${info.build}, ${info.chip}`);
  if (info.source === 'improv') return out.text('  (Improv device info: this board runs other firmware)');
  if (!info.provisioned) return out.text('  not provisioned: flash it with Makerdeck (makerdeck flash --profile NAME)');
  const set = (on: boolean | undefined) => (on ? '  (set on the board)' : '');
  out.text(`  device id     ${info.deviceId}${set(info.overridden?.deviceId)}`);
  out.text(`  Wi-Fi SSID    ${info.wifiSsid || '(none)'}${set(info.overridden?.wifi)}`);
  if (info.mqttHost)
    out.text(`  MQTT          ${info.mqttHost}:${info.mqttPort}${info.mqttUser ? `, user ${info.mqttUser}` : ''}`);
  out.text(`  interval      ${info.intervalS} s`);
}

const actions: Record<string, (context: CommandContext) => Promise<number>> = {
  async info(context) {
    const info = await callApi(context, 'device.info', { port: portOf(context, 'makerdeck device info --port P') });
    context.out.data(info);
    printInfo(context, info);
    return EXIT.ok;
  },
  async scan(context) {
    const found = await callApi(context, 'device.scan', { port: portOf(context, 'makerdeck device scan --port P') });
    context.out.data(found);
    if (!found.wifi) context.out.text('This board has no Wi-Fi: nothing to scan.');
    else if (found.networks.length === 0) context.out.text('The board sees no Wi-Fi network.');
    for (const n of found.networks)
      context.out.text(`${String(n.rssi).padStart(4)} dBm  ${n.secured ? 'secured' : 'open   '}  ${n.ssid}`);
    return EXIT.ok;
  },
};

export const deviceCommand: Command = {
  name: 'device',
  summary: 'A running board over USB serial: its id, build and non-secret config, or the networks it sees',
  usage: 'makerdeck device info|scan --port PATH [--json]',
  positionals: true,
  options: { port: { type: 'string', description: "the board's serial port" } },
  run: (context) => runAction(context, 'device', actions),
};

export const provisionCommand: Command = {
  name: 'provision',
  summary: "Set a running board's Wi-Fi and/or device id over Improv serial, no compiler needed",
  usage: [
    'makerdeck provision --port PATH --profile NAME           (Wi-Fi SSID and password from the profile)',
    '       makerdeck provision --port PATH --ssid NAME [--open] [--profile NAME]   (asks for the password;',
    '         with --profile it is then kept in the keychain on that profile)',
    '       makerdeck provision --port PATH --device-id ID     (only the id: boards without Wi-Fi, e.g. the Uno)',
  ].join('\n'),
  options: {
    port: { type: 'string', description: "the board's serial port" },
    profile: { type: 'string', description: 'the profile whose Wi-Fi to send (or that keeps a typed password)' },
    ssid: { type: 'string', description: 'a Wi-Fi network to send instead; its password is asked for' },
    open: { type: 'boolean', description: 'with --ssid: an open network, no password' },
    'device-id': { type: 'string', description: 'a new device id for the board' },
  },
  async run(context) {
    const { values } = context;
    const ssid = stringOption(values, 'ssid');
    if (values.open && !ssid) throw new MakerdeckError('BAD_INPUT', '--open goes with --ssid NAME');
    const password = ssid && !values.open ? await new SecretInput().read(`Password of ${ssid}`) : undefined;
    await context.host.loadSecrets({ quiet: true });
    const args = {
      port: portOf(context, 'makerdeck provision --port P --profile NAME'),
      profile: stringOption(values, 'profile'),
      ssid,
      password: ssid ? (password ?? '') : undefined,
      deviceId: stringOption(values, 'device-id'),
    };
    const result = await callApi(context, 'device.provision', args);
    context.out.data(result);
    if (result.deviceId) context.out.text(`The board's device id is now ${result.deviceId}.`);
    if (result.wifiSsid) context.out.text(`The board joined ${result.wifiSsid}.`);
    if (result.savedToProfile) context.out.text(`The password is kept in the keychain on ${result.savedToProfile}.`);
    return EXIT.ok;
  },
};
