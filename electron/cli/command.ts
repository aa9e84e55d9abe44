import { MakerdeckError, type ArgsOf, type RequestName, type ResultOf } from '../contract';
import type { Host } from '../core/host';
import type { Output } from './output';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
}

export interface CommandContext {
  host: Host;
  out: Output;
  values: Record<string, string | boolean | undefined>;
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
export async function callApi<N extends RequestName>(context: CommandContext, name: N, args: ArgsOf<N>): Promise<ResultOf<N>> {
  const reply = await context.host.call(name, args);
  if (!reply.ok) throw MakerdeckError.fromWire(reply.error);
  return reply.value as ResultOf<N>;
}
