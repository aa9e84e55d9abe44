// Browser mode (`makerdeck serve`): the built renderer over HTTP and the contract over a WebSocket,
// both on loopback unless the caller explicitly allows another address. A per-run token in the
// URL guards the WebSocket, so other local users' pages cannot drive the API.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MakerdeckError, WS_PATH, WS_TOKEN_PARAM, type ClientFrame, type ServerFrame } from '../contract';
import type { Host } from '../core/host';
import { isLoopbackHost } from './security';
import { serveStatic } from './staticFiles';

export interface WebServerOptions {
  host: Host;
  rendererDir: string;
  port?: number;
  bind?: string;
  /** Must be true to bind anything but a loopback address. */
  allowRemote?: boolean;
}

export interface WebServer {
  /** The URL to open, token included. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_FRAME_BYTES = 1024 * 1024;

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const bind = options.bind ?? '127.0.0.1';
  if (!isLoopbackHost(bind) && !options.allowRemote) {
    throw new MakerdeckError('BAD_INPUT', `Refusing to listen on ${bind}, which is not a loopback address: add --allow-remote if you really want other machines to reach Makerdeck`);
  }
  if (!existsSync(path.join(options.rendererDir, 'index.html'))) {
    throw new MakerdeckError('NOT_FOUND', `The renderer is not built (${options.rendererDir}/index.html is missing): run npm run build`);
  }
  const token = randomBytes(24).toString('base64url');
  const http = createServer((request, response) => void serveStatic(options.rendererDir, request, response));
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  let origin = '';

  http.on('upgrade', (request, socket, head) => {
    const refusal = checkUpgrade(request, token, origin);
    if (refusal) return refuse(socket, refusal);
    sockets.handleUpgrade(request, socket, head, (ws) => serveConnection(ws, options.host));
  });

  await listen(http, options.port ?? 0, bind);
  const port = (http.address() as AddressInfo).port;
  const hostPart = bind.includes(':') ? `[${bind}]` : bind;
  origin = `http://${hostPart}:${port}`;
  return {
    // The token rides in the fragment: browsers never send it in requests or Referer headers.
    url: `${origin}/#${WS_TOKEN_PARAM}=${token}`,
    port,
    close: () => close(http, sockets),
  };
}

function checkUpgrade(request: IncomingMessage, token: string, origin: string): string | undefined {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname !== WS_PATH) return '404 Not Found';
  const given = Buffer.from(url.searchParams.get(WS_TOKEN_PARAM) ?? '');
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return '401 Unauthorized';
  // Same-origin only: another site in the user's browser must not borrow a leaked token.
  if (request.headers.origin !== undefined && request.headers.origin !== origin) return '403 Forbidden';
  return undefined;
}

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function serveConnection(ws: WebSocket, host: Host): void {
  const send = (frame: ServerFrame) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  const unsubscribe = host.bus.onAny((name, payload) => send({ type: 'event', name, payload }));
  ws.on('close', unsubscribe);
  ws.on('message', async (data) => {
    const frame = parseFrame(data.toString());
    if (!frame) return ws.close(1003, 'Frames must be JSON {type:"call", id, name, args}');
    send({ type: 'reply', id: frame.id, reply: await host.call(frame.name, frame.args) });
  });
}

function parseFrame(text: string): ClientFrame | undefined {
  try {
    const frame = JSON.parse(text) as Partial<ClientFrame>;
    if (frame.type === 'call' && Number.isSafeInteger(frame.id) && typeof frame.name === 'string') return frame as ClientFrame;
  } catch {
    // fall through: not JSON
  }
  return undefined;
}

function listen(http: ReturnType<typeof createServer>, port: number, bind: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? `port ${port} is already in use: pick another with --port, or --port 0 for any free one` : error.message;
      reject(new MakerdeckError('UNAVAILABLE', `Cannot listen on ${bind}:${port}: ${why}`));
    });
    http.listen(port, bind, () => resolve());
  });
}

function close(http: ReturnType<typeof createServer>, sockets: WebSocketServer): Promise<void> {
  for (const client of sockets.clients) client.terminate();
  sockets.close();
  http.closeAllConnections();
  return new Promise((resolve) => http.close(() => resolve()));
}
