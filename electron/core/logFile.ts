// The log file in the data folder: one redacted line per entry, appended with O_APPEND so several
// processes (the app, `makerdeck serve`, any number of CLI commands) can write to it at once, and
// rotated by size. Rotation renames files, so a process still holding the old file appends to the
// renamed one (nothing is lost) and reopens the path on its next line. A log that cannot be
// written (full disk, unwritable folder) never throws: append() says so and the caller uses stderr.
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { writeSync } from 'node:fs';
import path from 'node:path';
import type { Redactor } from './secrets/redactor';

export const LOG_FILE_NAME = 'makerdeck.log';
/** Rotate once the file holds this much... */
export const LOG_MAX_BYTES = 1024 * 1024;
/** ...keeping this many files: makerdeck.log and makerdeck.log.1 to .4. */
export const LOG_FILES = 5;
/** A rotation lock older than this was left by a process that died while rotating. */
const STALE_LOCK_MS = 10_000;

export interface LogFileOptions {
  maxBytes?: number;
  files?: number;
  /** Where a failure to write is reported, once per kind of failure (default: stderr). */
  onFailure?: (message: string) => void;
}

/** The log file of a data folder: `<dataDir>/logs/makerdeck.log`. */
export function logFilePath(dataDir: string): string {
  return path.join(dataDir, 'logs', LOG_FILE_NAME);
}

export class LogFile {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly files: number;
  private readonly onFailure: (message: string) => void;
  private fd?: number;
  private ino?: number;
  /** The failure last reported, so a full disk says so once, not once per line. */
  private failure?: string;

  constructor(
    file: string,
    private readonly redactor: Pick<Redactor, 'redact'>,
    options: LogFileOptions = {},
  ) {
    this.path = file;
    this.maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
    this.files = Math.max(1, options.files ?? LOG_FILES);
    this.onFailure = options.onFailure ?? ((message) => process.stderr.write(message + '\n'));
  }

  /** Appends one redacted line; false (reported once) when the file cannot be written. Never throws. */
  append(text: string): boolean {
    try {
      const line = Buffer.from(this.redactor.redact(text).replace(/[\r\n]+/g, ' ') + '\n', 'utf8');
      const fd = this.open();
      // One write per line: with O_APPEND the kernel puts it whole at the end, whoever else writes.
      for (let done = 0; done < line.length;) done += writeSync(fd, line, done);
      this.failure = undefined;
    } catch (error) {
      this.fail(error);
      return false;
    }
    this.rotateIfFull(); // the line is written whatever happens here
    return true;
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = this.ino = undefined;
    try {
      closeSync(fd);
    } catch {
      // Already closed or gone: nothing left to release.
    }
  }

  /** The open file, reopened when another process rotated it away since the last line. */
  private open(): number {
    if (this.fd !== undefined && this.currentIno() === this.ino) return this.fd;
    this.close();
    mkdirSync(path.dirname(this.path), { recursive: true, mode: 0o700 });
    const fd = openSync(this.path, 'a', 0o600);
    try {
      const stat = fstatSync(fd);
      // A file left by an older version or under another umask (never a device someone linked here).
      if (stat.isFile() && (stat.mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
      this.ino = stat.ino;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return (this.fd = fd);
  }

  private currentIno(): number | undefined {
    try {
      return statSync(this.path).ino;
    } catch {
      return undefined;
    }
  }

  private rotateIfFull(): void {
    try {
      if (this.fd !== undefined && fstatSync(this.fd).size >= this.maxBytes) this.rotate();
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Shifts makerdeck.log → .1 → .2 …, dropping the oldest. One process rotates at a time (an
   * exclusive lock file); the others see the path change and reopen it.
   */
  private rotate(): void {
    const lock = `${this.path}.lock`;
    if (!this.takeLock(lock)) return; // another process is rotating right now
    try {
      // Rotated by another process meanwhile (gone, or a fresh file): nothing to do.
      if ((statSafe(this.path)?.size ?? 0) < this.maxBytes) return;
      for (let i = this.files - 1; i >= 1; i -= 1) this.renameIfThere(this.numbered(i - 1), this.numbered(i));
      if (this.files === 1) unlinkSync(this.path);
    } finally {
      unlinkSafe(lock);
      this.close();
    }
  }

  private takeLock(lock: string): boolean {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A holder that died mid-rotation: clear its lock; the next full line rotates.
      const age = Date.now() - (statSafe(lock)?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) unlinkSafe(lock);
      return false;
    }
  }

  private numbered(index: number): string {
    return index === 0 ? this.path : `${this.path}.${index}`;
  }

  private renameIfThere(from: string, to: string): void {
    try {
      renameSync(from, to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  private fail(error: unknown): void {
    this.close();
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
    if (this.failure === reason) return;
    this.failure = reason;
    const why = error instanceof Error ? error.message : String(error);
    try {
      this.onFailure(
        `Makerdeck cannot write its log file ${this.path} (${this.redactor.redact(why)}): ` +
          'log lines go to stderr until it can; free some disk space or make the folder writable',
      );
    } catch {
      // Reporting must not throw either.
    }
  }
}

function statSafe(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

function unlinkSafe(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Someone else removed it first.
  }
}
