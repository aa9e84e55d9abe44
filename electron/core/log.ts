// Logging for core services: a redacted line to stderr and a `log` event for the UI.
// Every client page receives `log` events, so they carry one line; a `detail` (a stack trace) is
// written only to the host's own stderr.
import type { LogLevel } from '../contract';
import type { EventBus } from './events';
import type { Redactor } from './secrets/redactor';

export interface Logger {
  /** `message` goes to stderr and to every page as one line; `detail` only to stderr. */
  log(level: LogLevel, message: string, detail?: string): void;
  child(source: string): Logger;
}

/** A stack's "at …" frames: kept on stderr for bug reports, never sent to a client. */
const STACK_FRAMES = /\n\s+at [^\n]*/g;

/** Every log entry is one line, whatever the message held (a stack, an attacker's newline). */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' | ').trim();
}

/** A logger writing to stderr (unless `quiet`) and emitting `log` events on `bus`, both redacted. */
export function createLogger(bus: EventBus, redactor: Redactor, source = 'core', quiet = false): Logger {
  return {
    log(level, message, detail) {
      const redacted = redactor.redact(message);
      const line = {
        time: new Date().toISOString(),
        level,
        source,
        message: oneLine(redacted.replace(STACK_FRAMES, '')),
      };
      if (!quiet && level !== 'debug') {
        const more = detail ? ` | ${oneLine(redactor.redact(detail))}` : '';
        process.stderr.write(`[${line.level}] ${source}: ${oneLine(redacted)}${more}\n`);
      }
      bus.emit('log', line);
    },
    child(childSource) {
      return createLogger(bus, redactor, childSource, quiet);
    },
  };
}
