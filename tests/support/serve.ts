import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import type { ServerFrame } from '../../electron/contract';
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

/** One contract request to a running `serve` over its WebSocket, as the page makes it; a refusal throws. */
export async function callServe<T>(served: Served, name: string, args: unknown): Promise<T> {
  const url = `${served.origin.replace('http', 'ws')}/ws?token=${served.token}`;
  const ws = new WebSocket(url, { origin: served.origin });
  try {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const reply = await new Promise<Extract<ServerFrame, { type: 'reply' }>['reply']>((resolve, reject) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as ServerFrame;
        if (frame.type === 'reply' && frame.id === 1) resolve(frame.reply);
      });
      ws.once('error', reject);
      ws.once('close', () => reject(new Error(`serve closed the WebSocket before answering ${name}`)));
      ws.send(JSON.stringify({ type: 'call', id: 1, name, args }));
    });
    if (!reply.ok) throw new Error(`${name}: ${reply.error.message}`);
    return reply.value as T;
  } finally {
    ws.close();
  }
}
