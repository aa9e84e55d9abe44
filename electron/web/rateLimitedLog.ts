// What browser mode logs about its connections: one line per kind of event per window, plus how many
// were left out, so a flood of hostile connections cannot flood stderr or the page's log.
import type { LogLevel } from '../contract';
import type { Logger } from '../core/log';

/** Logs `message` unless a line of the same `kind` went out in the last window. */
export type NoteLog = (kind: string, level: LogLevel, message: string) => void;

/** Wraps `logger` with a per-kind limit of one line each `windowMs`. */
export function rateLimitedLog(logger: Logger, windowMs = 10_000): NoteLog {
  const recent = new Map<string, { at: number; skipped: number }>();
  return (kind, level, message) => {
    const now = Date.now();
    const last = recent.get(kind);
    if (last && now - last.at < windowMs) {
      last.skipped += 1;
      return;
    }
    const seconds = last ? Math.round((now - last.at) / 1000) : 0;
    const skipped = last?.skipped ? ` (${last.skipped} more like this in the last ${seconds} s)` : '';
    recent.set(kind, { at: now, skipped: 0 });
    logger.log(level, message + skipped);
  };
}

/** An untrusted value (a header, an error text) quoted for a log line: short, one line, escaped. */
export function quote(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
