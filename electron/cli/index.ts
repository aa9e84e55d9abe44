// `makerdeck …`: the command line over the same core services as the app. Every command takes
// --json, prints errors in one line, and exits with a code from EXIT.
import { parseArgs } from 'node:util';
import { MakerdeckError } from '../contract';
import { createHost } from '../core/host';
import { APP_VERSION } from '../core/version';
import type { Command } from './command';
import { doctorCommand } from './commands/doctor';
import { compileCommand, flashCommand, portsCommand, releaseCommand } from './commands/firmware';
import { environmentCommand } from './commands/environment';
import { profileCommand } from './commands/profile';
import { stackCommand } from './commands/stack';
import { serveCommand } from './commands/serve';
import { telemetryCommand } from './commands/telemetry';
import { boardsCommand } from './commands/boards';
import { deviceLoginCommand } from './commands/deviceLogin';
import { deviceCommand, provisionCommand } from './commands/device';
import { labCommand } from './commands/lab';
import { packCommand } from './commands/pack';
import { EXIT, Output } from './output';

export const COMMANDS: Command[] = [
  doctorCommand,
  profileCommand,
  compileCommand,
  flashCommand,
  portsCommand,
  stackCommand,
  environmentCommand,
  telemetryCommand,
  serveCommand,
  boardsCommand,
  deviceLoginCommand,
  releaseCommand,
  deviceCommand,
  provisionCommand,
  labCommand,
  packCommand,
];

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const host = createHost({ kind: 'cli', quiet: json });
  const out = new Output(host.redactor, json, host.logger);
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === 'help' || name === '--help' || name === '-h') return help(out);
    if (name === 'version' || name === '--version') {
      out.data({ version: APP_VERSION });
      out.text(`makerdeck ${APP_VERSION}`);
      return EXIT.ok;
    }
    const command = COMMANDS.find((candidate) => candidate.name === name);
    if (!command) throw new MakerdeckError('BAD_INPUT', `unknown command "${name}": run makerdeck --help for the list`);
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help) return help(out, command);
    return await command.run({ host, out, values, positionals });
  } catch (error) {
    return out.error(error);
  }
}

function parseCommandArgs(command: Command, args: string[]) {
  const options = {
    ...Object.fromEntries(
      Object.entries(command.options).map(([key, spec]) => [
        key,
        { type: spec.type, ...(spec.multiple ? { multiple: true } : {}) },
      ]),
    ),
    json: { type: 'boolean' as const },
    help: { type: 'boolean' as const, short: 'h' },
  };
  try {
    return parseArgs({ args, options, allowPositionals: command.positionals === true, strict: true });
  } catch (error) {
    throw new MakerdeckError('BAD_INPUT', `${describeParseError(error)} (see makerdeck ${command.name} --help)`);
  }
}

/** parseArgs quotes the offending argument; it could be a secret typed by mistake, so only options are named. */
function describeParseError(error: unknown): string {
  const message = (error as Error).message.split('\n')[0]!;
  const option = /'(--?[\w-]+)/.exec(message)?.[1];
  if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
    return 'This command takes no extra arguments';
  if (option && /does not take an argument/.test(message))
    return `${option} takes no value (secrets are never given on the command line: type them at the prompt or pipe them on stdin)`;
  if (option && /argument missing/.test(message)) return `${option} needs a value`;
  if (option) return `Unknown option ${option}`;
  return 'The arguments could not be read';
}

function help(out: Output, command?: Command): number {
  if (command) {
    out.data({ command: command.name, usage: command.usage, options: command.options });
    out.text(`${command.summary}\n\nUsage: ${command.usage}\n`);
    for (const [name, spec] of Object.entries(command.options)) out.text(`  --${name.padEnd(14)} ${spec.description}`);
    out.text(`  --${'json'.padEnd(14)} print one JSON document instead of text`);
    return EXIT.ok;
  }
  out.data({ commands: COMMANDS.map(({ name, summary, usage }) => ({ name, summary, usage })), exitCodes: EXIT });
  out.text('Makerdeck: secrets in the keychain, firmware, the backing stack and live telemetry.\n\nCommands:');
  for (const entry of COMMANDS) out.text(`  ${entry.name.padEnd(10)} ${entry.summary}`);
  out.text('\nEvery command takes --json and --help.');
  out.text(
    `Exit codes: 0 ok, 1 a check or operation failed (or what was named does not exist), 2 bad usage or input, 3 a service or device is unavailable, 4 internal error, 130 cancelled.`,
  );
  return EXIT.ok;
}

export async function runCli(): Promise<void> {
  const code = await main(process.argv.slice(2));
  // serve returns only when asked to stop; other commands may leave probe sockets: exit explicitly.
  process.exit(code);
}
