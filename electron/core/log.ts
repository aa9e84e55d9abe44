// Logging for core services: a redacted line to stderr and a `log` event for the UI.
import type { LogLevel } from '../contract';
import type { EventBus } from './events';
import type { Redactor } from './secrets/redactor';

export interface Logger {
  log(level: LogLevel, message: string): void;
  child(source: string): Logger;
}

export function createLogger(bus: EventBus, redactor: Redactor, source = 'core', quiet = false): Logger {
  return {
    log(level, message) {
      const line = { time: new Date().toISOString(), level, source, message: redactor.redact(message) };
      if (!quiet && level !== 'debug') process.stderr.write(`[${line.level}] ${source}: ${line.message}\n`);
      bus.emit('log', line);
    },
    child(childSource) {
      return createLogger(bus, redactor, childSource, quiet);
    },
  };
}
