import type { Host } from '../../electron/core/host';

/** Polls `done` every 25 ms; throws naming `what` after `ms`. */
export async function until(what: string, done: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !(await done()); await new Promise((resolve) => setTimeout(resolve, 25))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

/** One request through a host, as a transport would make it; a refusal throws its message. */
export async function callHost<T>(host: Host, name: string, args: unknown): Promise<T> {
  const reply = await host.call(name, args);
  if (!reply.ok) throw new Error(`${name}: ${reply.error.message}`);
  return reply.value as T;
}
