import { MakerdeckError, type ArgsOf, type RequestName, type ResultOf } from '../contract';
import type { Host } from '../core/host';
import type { Output } from './output';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  /** The option may be given more than once (its value is then a list). */
  multiple?: boolean;
}

export interface CommandContext {
  host: Host;
  out: Output;
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Whether the command takes positional arguments (sub-actions, names, files). */
  positionals?: boolean;
  /** Resolves to the process exit code. */
  run(context: CommandContext): Promise<number>;
}

/** Calls the contract like any other client would, turning an error reply into a MakerdeckError. */
export async function callApi<N extends RequestName>(
  context: CommandContext,
  name: N,
  args: ArgsOf<N>,
): Promise<ResultOf<N>> {
  const reply = await context.host.call(name, args);
  if (!reply.ok) throw MakerdeckError.fromWire(reply.error);
  return reply.value as ResultOf<N>;
}

/** The value of a string option, or undefined when it was not given. */
export function stringOption(values: CommandContext['values'], key: string): string | undefined {
  const value = values[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Runs the sub-action named by the first positional (`makerdeck profile show …`), after teaching the
 * redactor the stored secrets so nothing the action prints can show one.
 */
export async function runAction(
  context: CommandContext,
  command: string,
  actions: Record<string, (context: CommandContext) => Promise<number>>,
  fallback?: string,
): Promise<number> {
  const name = context.positionals[0] ?? fallback;
  // Own keys only: `makerdeck telemetry constructor` must not find Object's constructor.
  const run = name !== undefined && Object.hasOwn(actions, name) ? actions[name] : undefined;
  if (!run)
    throw new MakerdeckError(
      'BAD_INPUT',
      `Use one of: ${Object.keys(actions).join(', ')} (see makerdeck ${command} --help)`,
    );
  await context.host.loadSecrets({ quiet: true });
  return run(context);
}

/** Ctrl+C cancels the operation (the command then ends as the operation does); returns the undo. */
export function cancelOnInterrupt(context: CommandContext, operationId: string): () => void {
  const cancel = () => void context.host.call('operations.cancel', { operationId });
  process.once('SIGINT', cancel);
  return () => process.off('SIGINT', cancel);
}

/** Resolves on Ctrl+C or SIGTERM, for commands that run until stopped (serve, telemetry tail). */
export function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
