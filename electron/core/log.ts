// Logging for core services: a redacted line to stderr and a `log` event for the UI.
import type { LogLevel } from '../contract';
import type { EventBus } from './events';
import type { Redactor } from './secrets/redactor';

export interface Logger {
  log(level: LogLevel, message: string): void;
  child(source: string): Logger;
}

/** A stack's "at …" frames: kept on stderr for bug reports, never sent to a client. */
const STACK_FRAMES = /\n\s+at [^\n]*/g;

/** Every log entry is one line, whatever the message held (a stack, an attacker's newline). */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' | ').trim();
}

export function createLogger(bus: EventBus, redactor: Redactor, source = 'core', quiet = false): Logger {
  return {
    log(level, message) {
      const redacted = redactor.redact(message);
      const forClients = oneLine(redacted.replace(STACK_FRAMES, ''));
      const line = { time: new Date().toISOString(), level, source, message: forClients };
      if (!quiet && level !== 'debug') process.stderr.write(`[${line.level}] ${source}: ${oneLine(redacted)}\n`);
      bus.emit('log', line);
    },
    child(childSource) {
      return createLogger(bus, redactor, childSource, quiet);
    },
  };
}
