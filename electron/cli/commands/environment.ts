// `makerdeck env show|local|attach`: which broker and InfluxDB the app uses.
import { MakerdeckError, type EnvironmentView } from '../../contract';
import { callApi, runAction, stringOption, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';
import { SecretInput } from '../secretInput';

function print(context: CommandContext, view: EnvironmentView): void {
  const secret = (set: boolean) => (set ? 'password •••••••• (set)' : 'no password');
  context.out.data(view);
  context.out.text(view.kind === 'local' ? 'Using the local stack (makerdeck stack up):' : 'Using attached services:');
  context.out.text(
    `  MQTT      ${view.mqtt.url}  user ${view.mqtt.username || '(none)'}, ${secret(view.mqtt.passwordSet)}`,
  );
  context.out.text(
    `  InfluxDB  ${view.influx.url}  database ${view.influx.database}, user ${view.influx.username || '(none)'}, ${secret(view.influx.passwordSet)}`,
  );
}

const actions: Record<string, (context: CommandContext) => Promise<number>> = {
  async show(context) {
    print(context, await callApi(context, 'environment.get', {}));
    return EXIT.ok;
  },
  async local(context) {
    print(context, await callApi(context, 'environment.set', { environment: { kind: 'local' } }));
    return EXIT.ok;
  },
  async attach(context) {
    const [mqttUrl, influxUrl, influxDatabase] = [
      stringOption(context.values, 'mqtt-url'),
      stringOption(context.values, 'influx-url'),
      stringOption(context.values, 'influx-db'),
    ];
    if (!mqttUrl || !influxUrl || !influxDatabase)
      throw new MakerdeckError('BAD_INPUT', 'Give --mqtt-url, --influx-url and --influx-db (see makerdeck env --help)');
    const input = new SecretInput();
    const secrets: { mqttPassword?: string; influxPassword?: string } = {};
    if (context.values['mqtt-password']) secrets.mqttPassword = await input.read('MQTT password');
    if (context.values['influx-password']) secrets.influxPassword = await input.read('InfluxDB password or token');
    const environment = {
      kind: 'attached' as const,
      mqttUrl,
      influxUrl,
      influxDatabase,
      mqttUsername: stringOption(context.values, 'mqtt-user') ?? '',
      influxUsername: stringOption(context.values, 'influx-user') ?? '',
    };
    print(context, await callApi(context, 'environment.set', { environment, secrets }));
    return EXIT.ok;
  },
};

export const environmentCommand: Command = {
  name: 'env',
  summary: "Which MQTT broker and InfluxDB Makerdeck uses: the local stack, or a lab's shared ones",
  usage:
    'makerdeck env show [--json]\n       makerdeck env local\n       makerdeck env attach --mqtt-url mqtt://lab:1883 --influx-url http://lab:8086 --influx-db DB [--mqtt-user U] [--influx-user U] [--mqtt-password] [--influx-password]',
  positionals: true,
  options: {
    'mqtt-url': { type: 'string', description: 'mqtt://, mqtts://, ws:// or wss:// URL of the broker' },
    'mqtt-user': { type: 'string', description: 'MQTT username' },
    'mqtt-password': { type: 'boolean', description: 'ask for the MQTT password (prompt or stdin)' },
    'influx-url': { type: 'string', description: 'http(s):// URL of InfluxDB' },
    'influx-db': { type: 'string', description: 'InfluxDB database (1.x) or bucket (2.x, Cloud)' },
    'influx-user': { type: 'string', description: 'InfluxDB username' },
    'influx-password': { type: 'boolean', description: 'ask for the InfluxDB password or token (prompt or stdin)' },
  },
  run(context) {
    if (context.positionals.length > 1)
      throw new MakerdeckError(
        'BAD_INPUT',
        `Use one of: ${Object.keys(actions).join(', ')} (see makerdeck env --help)`,
      );
    return runAction(context, 'env', actions, 'show');
  },
};
