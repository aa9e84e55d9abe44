// Logging for core services: a redacted line to stderr, to the data folder's log file and as a
// `log` event for the UI. Every client page receives `log` events, so they carry one line; a
// `detail` (a stack trace) goes only to the log file and the host's own stderr.
import type { LogLevel } from '../contract';
import type { EventBus } from './events';
import type { LogFile } from './logFile';
import type { Redactor } from './secrets/redactor';

export interface Logger {
  /** `message` goes to stderr, the log file and every page as one line; `detail` only to stderr and the file. */
  log(level: LogLevel, message: string, detail?: string): void;
  /** Only to the log file (stderr if it cannot be written): for details a person reads after the fact. */
  record(level: LogLevel, message: string, detail?: string): void;
  child(source: string): Logger;
  /** The log file's path, for messages that send people to it; undefined when there is none. */
  readonly file?: string;
}

/** A stack's "at …" frames: kept on stderr and in the file for bug reports, never sent to a client. */
const STACK_FRAMES = /\n\s+at [^\n]*/g;

/** Every log entry is one line, whatever the message held (a stack, an attacker's newline). */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' | ').trim();
}

/**
 * A logger writing to stderr (unless `quiet`), to `file` (when given; every level) and emitting
 * `log` events on `bus`, all redacted. When the file cannot be written, its lines go to stderr.
 */
export function createLogger(
  bus: EventBus,
  redactor: Redactor,
  source = 'core',
  quiet = false,
  file?: LogFile,
): Logger {
  const toFile = (full: string) => (file ? file.append(`${new Date().toISOString()} ${full}`) : false);
  const render = (level: LogLevel, message: string, detail?: string) => {
    const more = detail ? ` | ${oneLine(redactor.redact(detail))}` : '';
    return `[${level}] ${source}: ${oneLine(redactor.redact(message))}${more}`;
  };
  return {
    file: file?.path,
    record(level, message, detail) {
      const full = render(level, message, detail);
      if (!toFile(full)) process.stderr.write(full + '\n');
    },
    log(level, message, detail) {
      const redacted = redactor.redact(message);
      const line = {
        time: new Date().toISOString(),
        level,
        source,
        message: oneLine(redacted.replace(STACK_FRAMES, '')),
      };
      const full = render(level, message, detail);
      const written = toFile(full);
      if ((!quiet && level !== 'debug') || (file && !written)) process.stderr.write(full + '\n');
      bus.emit('log', line);
    },
    child(childSource) {
      return createLogger(bus, redactor, childSource, quiet, file);
    },
  };
}
