// `makerdeck stack up|down|status|logs|reset`.
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import {
  LAN_BROKER_NOTE,
  MakerdeckError,
  STACK_PROFILES,
  type StackLanView,
  type StackServiceView,
} from '../../contract';
import { callApi, cancelOnInterrupt, runAction, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';

type Profile = (typeof STACK_PROFILES)[number];

function profileOf(context: CommandContext, fallback: Profile): Profile {
  const value = context.values.profile ?? fallback;
  if (!STACK_PROFILES.includes(value as Profile))
    throw new MakerdeckError('BAD_INPUT', `--profile is ${STACK_PROFILES.join(' or ')}`);
  return value as Profile;
}

function serviceArg(context: CommandContext): string {
  const service = context.positionals[1];
  if (!service)
    throw new MakerdeckError('BAD_INPUT', `Name the service: makerdeck stack ${context.positionals[0]} rabbitmq`);
  return service;
}

function printStatus(context: CommandContext, services: StackServiceView[]): void {
  for (const s of services) {
    const health = s.health ? ` (${s.health})` : '';
    const ports = s.ports.map((p) => `${p.hostIp}:${p.hostPort}`).join(', ');
    const uptime = s.startedAt ? `, up ${Math.round((Date.now() - Date.parse(s.startedAt)) / 1000)} s` : '';
    context.out.text(`${s.name.padEnd(11)} ${`${s.state}${health}`.padEnd(20)} ${ports}${uptime}`);
    for (const link of s.links) context.out.text(`            ${link.label}: ${link.url}`);
    if (s.problem) context.out.text(`            ${s.problem}`);
  }
}

async function confirmReset(context: CommandContext): Promise<void> {
  if (context.values.yes === true) return;
  if (!process.stdin.isTTY)
    throw new MakerdeckError('BAD_INPUT', 'Resetting deletes all stack data: add --yes to confirm');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    'This deletes all data of the stack (InfluxDB, Grafana, broker). Type "reset" to go on: ',
  );
  rl.close();
  if (answer.trim() !== 'reset') throw new MakerdeckError('CANCELLED', 'Nothing was deleted');
}

/** Prints log lines as they come (JSON: one object per batch) until the service stops or Ctrl+C. */
async function followLogs(context: CommandContext, service: string, tail: number): Promise<number> {
  const operationId = randomUUID();
  const print = context.host.bus.on('stack.log', (batch) => {
    if (batch.operationId !== operationId) return;
    if (context.out.json) context.out.data({ service, lines: batch.lines });
    else for (const line of batch.lines) context.out.text(line);
  });
  const stopCancelling = cancelOnInterrupt(context, operationId);
  try {
    await callApi(context, 'stack.followLogs', { service, tail, operationId });
    return EXIT.ok;
  } finally {
    stopCancelling();
    print();
  }
}

/** --lan / --no-lan on `up`: undefined keeps the remembered choice. */
function lanFlag(context: CommandContext): boolean | undefined {
  if (context.values.lan && context.values['no-lan'])
    throw new MakerdeckError('BAD_INPUT', 'Give either --lan or --no-lan, not both');
  return context.values.lan ? true : context.values['no-lan'] ? false : undefined;
}

function printLan(context: CommandContext, lan: StackLanView): void {
  if (!lan.enabled) {
    context.out.text(`The broker listens on 127.0.0.1:${lan.port} only (makerdeck stack lan on opens it to the LAN).`);
    return;
  }
  const where = lan.addresses.length
    ? `boards use ${lan.addresses.join(' or ')}, port ${lan.port}`
    : 'this computer has no LAN address right now: join a network first';
  context.out.text(`The broker's MQTT port is open to the LAN: ${where}.`);
  context.out.text(LAN_BROKER_NOTE);
  if (lan.applied === 'next-up') context.out.text('The broker is not running: this applies at the next stack up.');
}

/** Remembers the LAN choice (re-creating a running broker alone) and says what it means. */
async function setLan(context: CommandContext, enabled: boolean): Promise<StackLanView> {
  const operationId = randomUUID();
  const stop = cancelOnInterrupt(context, operationId);
  try {
    return await callApi(context, 'stack.setLan', { enabled, operationId });
  } finally {
    stop();
  }
}

const actions: Record<string, (context: CommandContext) => Promise<number>> = {
  async lan(context) {
    const choice = context.positionals[1];
    if (choice !== undefined && choice !== 'on' && choice !== 'off')
      throw new MakerdeckError(
        'BAD_INPUT',
        'Use makerdeck stack lan on, makerdeck stack lan off, or makerdeck stack lan',
      );
    const lan = choice === undefined ? await callApi(context, 'stack.lan', {}) : await setLan(context, choice === 'on');
    context.out.data(lan);
    printLan(context, lan);
    return EXIT.ok;
  },
  async up(context) {
    const lan = lanFlag(context);
    if (lan !== undefined) printLan(context, await setLan(context, lan));
    const operationId = randomUUID();
    const stop = context.host.bus.on(
      'stack.progress',
      (p) =>
        p.operationId === operationId &&
        context.out.json === false &&
        process.stderr.write(`${p.service}: ${p.phase}${p.message ? ` — ${p.message}` : ''}\n`),
    );
    try {
      const services = await callApi(context, 'stack.up', { profile: profileOf(context, 'core'), operationId });
      context.out.data(services);
      printStatus(context, services);
      return EXIT.ok;
    } finally {
      stop();
    }
  },
  async down(context) {
    context.out.data(await callApi(context, 'stack.down', {}));
    context.out.text('The stack is down; its data volumes are kept (makerdeck stack reset deletes them).');
    return EXIT.ok;
  },
  async status(context) {
    const services = await callApi(context, 'stack.status', { profile: profileOf(context, 'full') });
    context.out.data(services);
    printStatus(context, services);
    // Data being lost (Telegraf dropping points) fails the check as an unhealthy service does.
    return services.some((s) => s.health === 'unhealthy' || s.problem) ? EXIT.failed : EXIT.ok;
  },
  async stop(context) {
    const service = serviceArg(context);
    context.out.data(await callApi(context, 'stack.stop', { service }));
    context.out.text(`${service} is stopped (makerdeck stack up starts it again).`);
    return EXIT.ok;
  },
  async restart(context) {
    const service = serviceArg(context);
    context.out.data(await callApi(context, 'stack.restart', { service }));
    context.out.text(`${service} restarted and is up.`);
    return EXIT.ok;
  },
  async logs(context) {
    const service = serviceArg(context);
    const tail = context.values.tail === undefined ? 200 : Number(context.values.tail);
    if (context.values.follow === true) return followLogs(context, service, tail);
    const logs = await callApi(context, 'stack.logs', { service, tail });
    context.out.data(logs);
    for (const line of logs.lines) context.out.text(line);
    return EXIT.ok;
  },
  async 'export-images'(context) {
    const file = context.positionals[1];
    if (!file)
      throw new MakerdeckError('BAD_INPUT', 'Name the bundle file: makerdeck stack export-images makerdeck-images.tar');
    const result = await callApi(context, 'stack.exportImages', { file, profile: profileOf(context, 'full') });
    context.out.data(result);
    context.out.text(
      `Saved ${result.images.length} images (${(result.bytes / 1024 / 1024).toFixed(0)} MiB) to ${result.file}.`,
    );
    return EXIT.ok;
  },
  async 'import-images'(context) {
    const file = context.positionals[1];
    if (!file)
      throw new MakerdeckError('BAD_INPUT', 'Name the bundle file: makerdeck stack import-images makerdeck-images.tar');
    const result = await callApi(context, 'stack.importImages', { file });
    context.out.data(result);
    context.out.text(`Loaded ${result.images.length} images: ${result.images.join(', ')}`);
    return EXIT.ok;
  },
  async reset(context) {
    await confirmReset(context);
    context.out.data(await callApi(context, 'stack.reset', { confirm: true }));
    context.out.text('The stack and its data are gone.');
    return EXIT.ok;
  },
};

export const stackCommand: Command = {
  name: 'stack',
  summary: 'The local backing stack (RabbitMQ, InfluxDB, Telegraf, …) on Docker',
  usage:
    'makerdeck stack up|down|status|stop SERVICE|restart SERVICE|logs SERVICE [--follow]|reset|export-images FILE|' +
    'import-images FILE [--profile core|full] [--yes] [--json]\n' +
    'makerdeck stack up --lan|--no-lan   open the broker to the LAN, or close it (remembered)\n' +
    'makerdeck stack lan [on|off]        show or change that choice; a running broker is re-created alone',
  positionals: true,
  options: {
    profile: { type: 'string', description: 'core (broker, InfluxDB, Telegraf) or full (all seven services)' },
    tail: { type: 'string', description: 'logs: how many lines (default 200)' },
    follow: { type: 'boolean', description: 'logs: keep printing new lines until the service stops or Ctrl+C' },
    yes: { type: 'boolean', description: 'reset: confirm deleting all stack data' },
    lan: { type: 'boolean', description: "up: open the broker's MQTT port (1883) to the LAN (remembered)" },
    'no-lan': { type: 'boolean', description: 'up: keep the broker on 127.0.0.1 (remembered)' },
  },
  run: (context) => runAction(context, 'stack', actions),
};
