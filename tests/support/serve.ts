import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './env';

export interface Served {
  url: string;
  origin: string;
  token: string;
  port: number;
  /** What `serve --json` printed: url, port, scheme, and with --allow-remote fingerprint256, spkiSha256. */
  info: { url: string; port: number; scheme: string; fingerprint256?: string; spkiSha256?: string };
  child: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Starts `makerdeck serve --port 0 --json [args]` and reads the URL it prints. */
export async function startServe(env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<Served> {
  const command = [path.join(repoRoot, 'bin', 'makerdeck.js'), 'serve', '--port', '0', '--json', ...args];
  const child = spawn(process.execPath, command, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const line = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk) => {
      buffer += chunk;
      if (buffer.includes('\n')) resolve(buffer.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`makerdeck serve exited with ${code}: ${stderr}`)));
  });
  const info = JSON.parse(line) as Served['info'];
  const parsed = new URL(info.url);
  return {
    url: info.url,
    origin: parsed.origin,
    token: new URLSearchParams(parsed.hash.slice(1)).get('token') ?? '',
    port: info.port,
    info,
    child,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}
