// The data folder's log file: rotation by size, redaction before the disk, mode 0600, several
// processes appending at once, and a disk that refuses writes.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { transformWithOxc } from 'vite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MakerdeckError, type Handlers } from '../../electron/contract';
import { dispatch } from '../../electron/core/dispatch';
import { EventBus } from '../../electron/core/events';
import { createLogger } from '../../electron/core/log';
import { LOG_FILE_NAME, LogFile, logFilePath } from '../../electron/core/logFile';
import { Redactor } from '../../electron/core/secrets/redactor';
import { findSecrets, snapshot } from '../support/files';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const noRedaction = { redact: (text: string) => text };
const logsDir = () => path.join(dir, 'logs');
/** Every line of every log file, oldest file first. */
function allLines(): string[] {
  const files = readdirSync(logsDir()).filter((name) => name.startsWith(LOG_FILE_NAME) && !name.endsWith('.lock'));
  const age = (name: string) => Number(name.slice(LOG_FILE_NAME.length + 1) || 0);
  return files
    .sort((a, b) => age(b) - age(a))
    .flatMap((name) => readFileSync(path.join(logsDir(), name), 'utf8').split('\n').filter(Boolean));
}

describe('LogFile', () => {
  it('rotates by size, keeping the newest lines in order in at most `files` files', () => {
    const log = new LogFile(logFilePath(dir), noRedaction, { maxBytes: 1000, files: 3 });
    for (let i = 0; i < 500; i++) expect(log.append(`line ${String(i).padStart(4, '0')}`)).toBe(true);
    log.close();
    // The current file appears again with the next line when the last one rotated it away.
    const names = readdirSync(logsDir()).filter((name) => name !== LOG_FILE_NAME);
    expect(names.sort()).toEqual([`${LOG_FILE_NAME}.1`, `${LOG_FILE_NAME}.2`]);
    for (const name of readdirSync(logsDir()))
      expect(statSync(path.join(logsDir(), name)).size).toBeLessThanOrEqual(1000 + 10); // one line over at most
    const kept = allLines().map((line) => Number(line.slice(5)));
    expect(kept.at(-1)).toBe(499);
    expect(kept).toEqual(kept.map((_, i) => kept[0]! + i)); // contiguous: nothing lost inside the window
    expect(kept.length).toBeGreaterThan(100); // two full files and the current one
  });

  it('creates the file 0600 in a 0700 folder, and tightens a file left readable by others', () => {
    const log = new LogFile(logFilePath(dir), noRedaction);
    log.append('first');
    expect(statSync(logFilePath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(logsDir()).mode & 0o777).toBe(0o700);
    log.close();
    chmodSync(logFilePath(dir), 0o644);
    new LogFile(logFilePath(dir), noRedaction).append('second');
    expect(statSync(logFilePath(dir)).mode & 0o777).toBe(0o600);
  });

  it('keeps every entry on one line, whatever newlines the text held', () => {
    const log = new LogFile(logFilePath(dir), noRedaction);
    log.append('one\r\ntwo\nthree');
    expect(readFileSync(logFilePath(dir), 'utf8')).toBe('one two three\n');
  });

  it('never throws on a full disk (/dev/full): says so once, and the logger falls back to stderr', () => {
    mkdirSync(logsDir());
    symlinkSync('/dev/full', logFilePath(dir));
    const failures: string[] = [];
    const file = new LogFile(logFilePath(dir), noRedaction, { onFailure: (message) => failures.push(message) });
    const redactor = new Redactor();
    const logger = createLogger(new EventBus(redactor), redactor, 'test', true, file);
    const stderr = captureStderr(() => {
      expect(file.append('one')).toBe(false);
      logger.log('error', 'it broke', 'Error: it broke\n    at here');
      logger.log('warn', 'again');
    });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/cannot write its log file .*makerdeck\.log .*ENOSPC.*free some disk space/);
    expect(stderr).toEqual(['[error] test: it broke | Error: it broke | at here\n', '[warn] test: again\n']);
  });

  it('never throws when the folder cannot be made (a file where the folder should be)', () => {
    writeFileSync(logsDir(), 'not a folder');
    const failures: string[] = [];
    const file = new LogFile(logFilePath(dir), noRedaction, { onFailure: (message) => failures.push(message) });
    expect(file.append('one')).toBe(false);
    expect(file.append('two')).toBe(false);
    expect(failures).toEqual([expect.stringMatching(/ENOTDIR|EEXIST/)]);
    rmSync(logsDir());
    expect(file.append('three')).toBe(true); // writable again: back to the file
    expect(readFileSync(logFilePath(dir), 'utf8')).toBe('three\n');
  });

  it('takes every line of two processes appending at once, across rotations, exactly once and whole', async () => {
    const perProcess = 4000;
    const module = path.join(dir, 'logFile.mjs');
    const source = readFileSync(path.join(import.meta.dirname, '../../electron/core/logFile.ts'), 'utf8');
    writeFileSync(module, (await transformWithOxc(source, 'logFile.ts')).code);
    const writer = (name: string) =>
      [
        `import { LogFile } from ${JSON.stringify(module)};`,
        `const log = new LogFile(${JSON.stringify(logFilePath(dir))}, { redact: (t) => t },`,
        `  { maxBytes: 16 * 1024, files: 100, onFailure: (m) => { console.error(m); process.exit(1); } });`,
        `for (let i = 0; i < ${perProcess}; i++) log.append('${name} ' + i + ' ' + 'x'.repeat(i % 97));`,
      ].join('\n');
    await Promise.all(['a', 'b'].map((name) => runNode(writer(name))));
    const lines = allLines();
    const seen = new Map<string, number>();
    for (const line of lines) {
      const match = /^([ab]) (\d+) (x*)$/.exec(line);
      expect(match, `a torn or merged line: ${line.slice(0, 80)}`).not.toBeNull();
      expect(match![3]!.length).toBe(Number(match![2]) % 97);
      seen.set(`${match![1]} ${match![2]}`, (seen.get(`${match![1]} ${match![2]}`) ?? 0) + 1);
    }
    expect(lines).toHaveLength(2 * perProcess);
    expect(seen.size).toBe(2 * perProcess);
    expect(readdirSync(logsDir()).length).toBeGreaterThan(10); // it did rotate, many times
    // One rotation per full file: a second process never rotated the fresh file away as well.
    const rotated = readdirSync(logsDir()).filter((name) => name !== LOG_FILE_NAME);
    const small = rotated.filter((name) => statSync(path.join(logsDir(), name)).size < 16 * 1024);
    expect(small).toEqual([]);
    expect(existsSync(`${logFilePath(dir)}.lock`)).toBe(false);
  }, 60_000);
});

describe('the log file and the redactor', () => {
  it("never puts a secret on disk: taught to the redactor, then logged in an error's detail", async () => {
    const secret = 'log-file-secret-4711';
    const redactor = new Redactor();
    const bus = new EventBus(redactor);
    const logger = createLogger(bus, redactor, 'test', true, new LogFile(logFilePath(dir), redactor));
    redactor.learn(secret);
    const failing = {
      'serial.list': async () => {
        throw new Error(`udev answered with ${secret}`);
      },
    } as unknown as Handlers;
    const reply = await dispatch(failing, 'serial.list', {}, redactor, logger);
    const message = `serial.list failed unexpectedly; details are in ${logFilePath(dir)}`;
    expect(reply).toEqual({ ok: false, error: { code: 'INTERNAL', message } });
    logger.log('error', 'saving failed', new MakerdeckError('UNAVAILABLE', `token ${secret}`).stack);
    const text = readFileSync(logFilePath(dir), 'utf8');
    expect(text).toMatch(/\[error\] test: serial\.list failed: Error: udev answered with •••• \| Error: .* \| at /);
    expect(text).toContain('saving failed | MakerdeckError: token ••••');
    const leaks = [...snapshot(dir)].flatMap(([name, bytes]) => findSecrets(name, bytes, [secret]));
    expect(leaks).toEqual([]);
  });
});

function runNode(code: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))));
  });
}

function captureStderr(run: () => void): string[] {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    run();
  } finally {
    process.stderr.write = write;
  }
  return written;
}
