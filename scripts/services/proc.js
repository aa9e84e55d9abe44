// Small child-process helpers shared by the service launchers.
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */
/** @typedef {{ code: number, signal: NodeJS.Signals | null, stdout: string, stderr: string, ms: number }} RunResult */

/**
 * Run a command to completion; resolves { code, stdout, stderr } (never rejects on exit code).
 * @param {string} cmd
 * @param {string[]} [args]
 * @param {{ input?: string, env?: NodeJS.ProcessEnv, cwd?: string, timeoutMs?: number }} [opts]
 * @returns {Promise<RunResult>}
 */
export function run(cmd, args = [], { input, env, cwd, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), signal, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin.on('error', () => {}); // child may exit before reading its input
    child.stdin.end(input ?? '');
  });
}

/** @param {number} ms @returns {Promise<void>} */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {ChildProcess} child */
export const isRunning = (child) => child.exitCode === null && child.signalCode === null;

/**
 * Resolves true once `child` has exited, false if it is still running after `ms`.
 * @param {ChildProcess} child
 * @param {number} ms
 * @returns {Promise<boolean>}
 */
export function waitForExit(child, ms) {
  if (!isRunning(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * SIGTERM the child we spawned (by its PID), SIGKILL it if it is still there after `timeoutMs`.
 * @param {ChildProcess} child
 */
export async function stopChild(child, timeoutMs = 5000) {
  if (!isRunning(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, timeoutMs)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5000);
}

/**
 * True if `pid` exists and is not a zombie (this sandbox's PID 1 does not reap orphans).
 * @param {number} pid
 */
export function pidAlive(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Last `lines` lines of a log file (minus those matching `skip`), for error messages.
 * @param {string} file
 * @param {RegExp | null} [skip]
 */
export function tail(file, lines = 25, skip = null) {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    return all
      .filter((l) => !skip?.test(l))
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * True when this file is the script node was started with (for `--self-test`).
 * @param {string} importMetaUrl
 */
export function isMain(importMetaUrl) {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(importMetaUrl);
  } catch {
    return false;
  }
}
