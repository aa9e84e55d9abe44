// Everything the CLI prints goes through here, and so through the host's redactor.
import { MakerdeckError, type ErrorCode } from '../contract';
import { whereDetailsAre } from '../core/dispatch';
import type { Logger } from '../core/log';
import type { Redactor } from '../core/secrets/redactor';

/** Exit codes, documented in `makerdeck --help` and the README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3, internal: 4, cancelled: 130 } as const;

const EXIT_FOR_CODE: Record<ErrorCode, number> = {
  BAD_INPUT: EXIT.usage,
  UNKNOWN_METHOD: EXIT.usage,
  FORBIDDEN: EXIT.unavailable,
  NOT_FOUND: EXIT.failed,
  UNAVAILABLE: EXIT.unavailable,
  TIMEOUT: EXIT.unavailable,
  DISCONNECTED: EXIT.unavailable,
  CANCELLED: EXIT.cancelled,
  INTERNAL: EXIT.internal,
};

export class Output {
  constructor(
    private readonly redactor: Redactor,
    readonly json: boolean,
    /** Where an unexpected error's stack goes (the data folder's log file). */
    private readonly logger?: Logger,
  ) {}

  /** Human text to stdout (nothing in --json mode). */
  text(line: string): void {
    if (!this.json) process.stdout.write(this.redactor.redact(line) + '\n');
  }

  /** One JSON document to stdout (only in --json mode). */
  data(value: unknown): void {
    if (this.json) process.stdout.write(this.redactor.redact(JSON.stringify(value)) + '\n');
  }

  /** One line on stderr (or a JSON error on stdout) and the exit code to use. */
  error(error: unknown): number {
    const safe = error instanceof MakerdeckError ? error : this.unexpected(error);
    const message = this.redactor.redact(safe.message.replace(/\s*\n\s*/g, ' '));
    if (this.json) process.stdout.write(JSON.stringify({ error: { code: safe.code, message } }) + '\n');
    else process.stderr.write(`makerdeck: ${message}\n`);
    return EXIT_FOR_CODE[safe.code];
  }

  /** A bug: its stack goes to the log file (never the terminal), and the line says where. */
  private unexpected(error: unknown): MakerdeckError {
    const summary = error instanceof Error ? error.message : String(error);
    if (!this.logger) return new MakerdeckError('INTERNAL', `unexpected error: ${summary}`);
    this.logger.record('error', `unexpected error: ${summary}`, error instanceof Error ? error.stack : undefined);
    return new MakerdeckError('INTERNAL', `unexpected error: ${summary}; ${whereDetailsAre(this.logger)}`);
  }
}
