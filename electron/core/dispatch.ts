// Turns an untrusted (name, args) pair from any transport into a typed handler call and a Reply.
// This is the single place where arguments are validated and errors are made safe to send. It
// never throws and never rejects, whatever the transport hands it.
import { MakerdeckError, isRequestName, requests, type Handlers, type Reply, type RequestName } from '../contract';
import type { Logger } from './log';
import { wellFormed, type Redactor } from './secrets/redactor';

/** Longer messages are cut: a reply carries one line, not a dump of whatever the caller sent. */
const MAX_MESSAGE = 1000;
/** No request takes more (the largest, telemetry.window, about 200 values in 3 levels). */
const MAX_ARG_VALUES = 10_000;
const MAX_ARG_DEPTH = 32;

export async function dispatch(
  handlers: Handlers,
  name: unknown,
  rawArgs: unknown,
  redactor: Redactor,
  logger: Logger,
): Promise<Reply<unknown>> {
  try {
    if (!isRequestName(name)) {
      const message = `Unknown request "${describe(name)}": update the app or check the request name`;
      throw new MakerdeckError('UNKNOWN_METHOD', message);
    }
    checkSize(name, rawArgs);
    const parsed = requests[name].args.safeParse(rawArgs);
    if (!parsed.success) {
      // The schemas' messages are written for people and never quote the value; the request and field follow.
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${name}: ${issue.path.map(describe).join('.')}` : name;
      throw new MakerdeckError('BAD_INPUT', `${issue?.message ?? 'Invalid arguments'} (${where})`);
    }
    learnSecrets(name, parsed.data, redactor);
    const handler = handlers[name] as (args: unknown) => Promise<unknown>;
    const value = await handler(parsed.data);
    return { ok: true, value: redactor.redactDeep(value) };
  } catch (error) {
    return { ok: false, error: toSafeError(error, name, redactor, logger) };
  }
}

/** Secrets in the request's declared fields are masked from here on, before the handler can echo one. */
function learnSecrets(name: RequestName, args: unknown, redactor: Redactor): void {
  for (const path of requests[name].secrets ?? []) {
    const value = path.split('.').reduce<unknown>(fieldOf, args);
    if (typeof value === 'string' && !redactor.learn(value)) {
      const message = 'Makerdeck was sent more distinct secrets than it can mask in one run: restart it and try again';
      throw new MakerdeckError('UNAVAILABLE', message);
    }
  }
}

/**
 * Refuses arguments far larger than any request takes before the schema sees them: zod checks every
 * element of an array before its length (a 1 MiB frame of them took 1.5-2.7 s here). Iterative, so
 * no nesting depth can overflow the stack.
 */
function checkSize(name: RequestName, args: unknown): void {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: args, depth: 0 }];
  let count = 0;
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (!isRecord(next.value)) continue;
    const items = Array.isArray(next.value) ? next.value : Object.values(next.value);
    count += items.length;
    if (count > MAX_ARG_VALUES || next.depth >= MAX_ARG_DEPTH) {
      const limits = `at most ${MAX_ARG_VALUES.toLocaleString('en')} values in ${MAX_ARG_DEPTH} levels`;
      throw new MakerdeckError('BAD_INPUT', `The arguments are larger than any request takes (${limits}) (${name})`);
    }
    for (const value of items) pending.push({ value, depth: next.depth + 1 });
  }
}

function fieldOf(value: unknown, key: string): unknown {
  return isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function toSafeError(error: unknown, name: unknown, redactor: Redactor, logger: Logger) {
  try {
    if (error instanceof MakerdeckError) return { code: error.code, message: oneLine(redactor.redact(error.message)) };
    // An unexpected error is a bug: one line to the log (and so to pages), the stack only to the log file and stderr.
    const summary = error instanceof Error ? `${error.name}: ${error.message}` : describe(error);
    const detail = error instanceof Error ? error.stack : undefined;
    logger.log('error', `${describe(name)} failed: ${oneLine(summary)}`, detail);
  } catch {
    // Even a failing logger or redactor leaves the caller with an answer.
  }
  return { code: 'INTERNAL' as const, message: `${describe(name)} failed unexpectedly; ${whereDetailsAre(logger)}` };
}

/** Names the log file the details went to (the host's stderr when it has none). */
export function whereDetailsAre(logger: Pick<Logger, 'file'>): string {
  return logger.file ? `details are in ${logger.file}` : "details are on the host's stderr";
}

/** A short, printable rendering of anything a caller sent, for messages. */
function describe(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return `(${value === null ? 'null' : typeof value})`;
  const text = String(value);
  return oneLine(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** One line of printable text: no control characters, no lone surrogates, at most MAX_MESSAGE long. */
function oneLine(text: string): string {
  const flat = text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  return wellFormed(flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}…` : flat);
}
