// A service container's log: its last lines, or followed as it grows. Without a TTY, Docker
// multiplexes stdout and stderr into frames; both are read here as one text.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { LineBatcher } from './lineBatcher';

/** The last `tail` lines a container logged, stdout and stderr demultiplexed, empty lines dropped. */
export async function readLogs(container: Docker.Container, tail: number): Promise<string[]> {
  const info = await container.inspect();
  const raw = (await container.logs({ stdout: true, stderr: true, tail, timestamps: false })) as unknown as Buffer;
  return (info.Config.Tty ? raw.toString('utf8') : demultiplex(raw)).split('\n').filter((line) => line.length > 0);
}

/**
 * Streams a container's log from its last `tail` lines on, in batches (at most one per 100 ms),
 * until the container stops or `signal` aborts.
 */
export async function followLogs(
  docker: Docker,
  container: Docker.Container,
  tail: number,
  onLines: (lines: string[]) => void,
  signal: AbortSignal,
): Promise<void> {
  const tty = (await container.inspect()).Config.Tty;
  const stream = (await container.logs({
    follow: true,
    stdout: true,
    stderr: true,
    tail,
  })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  const text = tty ? stream : new PassThrough();
  if (!tty) docker.modem.demuxStream(stream, text as PassThrough, text as PassThrough);
  const batch = new LineBatcher(onLines, 100);
  text.on('data', (chunk: Buffer) => batch.push(chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    const finish = () => {
      batch.flush(true);
      resolve();
    };
    stream.on('end', finish);
    stream.on('error', (error: Error) => (signal.aborted ? finish() : reject(error)));
    const cancel = () => {
      stream.destroy();
      finish();
    };
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
  });
}

/** Docker's log stream without a TTY: frames of [stream, 0, 0, 0, size (4 bytes, big-endian), payload]. */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
