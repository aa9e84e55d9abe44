// Turns an untrusted (name, args) pair from any transport into a typed handler call and a Reply.
// This is the single place where arguments are validated and errors are made safe to send.
import { MakerdeckError, SECRET_ARG_KEYS, isRequestName, requests, type Handlers, type Reply } from '../contract';
import type { Logger } from './log';
import type { Redactor } from './secrets/redactor';

export async function dispatch(
  handlers: Handlers,
  name: unknown,
  rawArgs: unknown,
  redactor: Redactor,
  logger: Logger,
): Promise<Reply<unknown>> {
  learnSecrets(rawArgs, redactor);
  try {
    if (!isRequestName(name)) {
      throw new MakerdeckError('UNKNOWN_METHOD', `Unknown request "${String(name)}": update the app or check the request name`);
    }
    const parsed = requests[name].args.safeParse(rawArgs);
    if (!parsed.success) {
      // The schemas' messages are written for people; the request and field follow for developers.
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${name}: ${issue.path.join('.')}` : name;
      throw new MakerdeckError('BAD_INPUT', `${issue?.message ?? 'Invalid arguments'} (${where})`);
    }
    const handler = handlers[name] as (args: unknown) => Promise<unknown>;
    const value = await handler(parsed.data);
    return { ok: true, value: redactor.redactDeep(value) };
  } catch (error) {
    return { ok: false, error: toSafeError(error, String(name), redactor, logger) };
  }
}

/** Secrets arriving in arguments are masked from here on, even if the request is then refused. */
function learnSecrets(value: unknown, redactor: Redactor, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string' && SECRET_ARG_KEYS.includes(key)) redactor.add(item);
    else learnSecrets(item, redactor, depth + 1);
  }
}

function toSafeError(error: unknown, name: string, redactor: Redactor, logger: Logger) {
  if (error instanceof MakerdeckError) {
    return { code: error.code, message: oneLine(redactor.redact(error.message)) };
  }
  // An unexpected error is a bug: its stack goes to the log, the caller gets one generic line.
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  logger.log('error', `${name} failed: ${detail}`);
  return { code: 'INTERNAL' as const, message: `${name} failed unexpectedly; details are in the log` };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
