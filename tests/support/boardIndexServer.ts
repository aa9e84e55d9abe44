// A board-manager index and its archives served over HTTP on 127.0.0.1, as a vendor's server would
// serve them. Paths: /<variant>/package_makerdeckavr_index.json and /<variant>/<archive>, where the
// variant is `good`, `slow` (the archives trickle out, so progress and cancel can be seen) or `bad`
// (the index gives the toolchain a wrong checksum).
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform, pipeline } from 'node:stream';
import { INDEX_FILE_NAME, boardIndex, type BoardPackage } from '../../scripts/rig/boardIndex.js';

export type Variant = 'good' | 'slow' | 'bad';

export interface BoardIndexServer {
  url(variant: Variant): string;
  /** Bytes sent per archive name, all variants together. */
  sent: Map<string, number>;
  close(): Promise<void>;
}

/** Bytes per 50 ms for the slow variant: 4 MiB/s, so the 36 MiB toolchain takes about 9 s. */
const SLOW_CHUNK = 200 * 1024;

function throttle(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < chunk.length; i += SLOW_CHUNK) pieces.push(chunk.subarray(i, i + SLOW_CHUNK));
      const next = () => {
        const piece = pieces.shift();
        if (!piece) return done();
        this.push(piece);
        setTimeout(next, 50);
      };
      next();
    },
  });
}

/** Serves `pack` on 127.0.0.1 at a free port. */
export async function startBoardIndexServer(pack: BoardPackage): Promise<BoardIndexServer> {
  const archives = new Map([pack.core, pack.toolchain, pack.ctags].map((a) => [a.name, a]));
  const sent = new Map<string, number>();
  let base = '';
  const server = http.createServer((request, response) => {
    response.on('error', () => {});
    const [, variant, name] = /^\/(good|slow|bad)\/([^/?]+)/.exec(request.url ?? '') ?? [];
    if (name === INDEX_FILE_NAME) {
      const index = boardIndex(pack, `${base}/${variant}`, variant === 'bad' ? { tamper: 'toolchain' } : {});
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(index));
      return;
    }
    const archive = name ? archives.get(name) : undefined;
    if (!archive) return void response.writeHead(404).end('not found');
    response.writeHead(200, { 'content-type': 'application/gzip', 'content-length': archive.size });
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent.set(archive.name, (sent.get(archive.name) ?? 0) + chunk.length);
        done(null, chunk);
      },
    });
    // A client that hangs up mid-download (a cancelled install) just ends the stream.
    if (variant === 'slow')
      pipeline(createReadStream(archive.file, { highWaterMark: SLOW_CHUNK }), throttle(), count, response, () => {});
    else pipeline(createReadStream(archive.file), count, response, () => {});
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (variant) => `${base}/${variant}/${INDEX_FILE_NAME}`,
    sent,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
