import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A unix socket that accepts connections and never answers: a hung Docker daemon. */
export async function hungSocket(): Promise<{ path: string; accepted: () => number; close: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-hung-'));
  const socketPath = path.join(dir, 'docker.sock');
  const held = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    path: socketPath,
    accepted: () => accepted,
    close: async () => {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A socket file with no listener behind it (its process was killed): connecting gives ECONNREFUSED. */
export async function deadSocket(): Promise<{ path: string; close: () => void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-dead-'));
  const socketPath = path.join(dir, 'docker.sock');
  const script = `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.stdout.write('up'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  // SIGKILL skips node's cleanup, so the socket file stays with nobody listening.
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  return { path: socketPath, close: () => rmSync(dir, { recursive: true, force: true }) };
}
