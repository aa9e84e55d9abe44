import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './env';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the built `makerdeck` command as a user would, with extra environment. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: {
    user?: string;
    timeoutMs?: number;
    input?: string | Buffer;
    interruptWhen?: (stdout: string) => boolean;
  } = {},
): Promise<CliResult> {
  const bin = path.join(repoRoot, 'bin', 'makerdeck.js');
  const [command, argv] = options.user
    ? ['runuser', ['-u', options.user, '--', process.execPath, bin, ...args]]
    : [process.execPath, [bin, ...args]];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv as string[], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(options.input ?? '');
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      // Ctrl+C, as a person would press it once the output shows what they wanted
      if (!interrupted && options.interruptWhen?.(stdout)) interrupted = child.kill('SIGINT');
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
