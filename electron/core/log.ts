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

/** A logger writing to stderr (unless `quiet`) and emitting `log` events on `bus`, both redacted. */
export function createLogger(bus: EventBus, redactor: Redactor, source = 'core', quiet = false): Logger {
  return {
    log(level, message, detail) {
      const oneLine = redactor.redact(message).replace(/\s*[\r\n]+\s*/g, ' ');
      const line = { time: new Date().toISOString(), level, source, message: oneLine };
      if (!quiet && level !== 'debug') {
        const more = detail ? `\n${redactor.redact(detail)}` : '';
        process.stderr.write(`[${line.level}] ${source}: ${line.message}${more}\n`);
      }
      bus.emit('log', line);
    },
    child(childSource) {
      return createLogger(bus, redactor, childSource, quiet);
    },
  };
}
