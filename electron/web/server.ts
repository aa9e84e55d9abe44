// Browser mode (`makerdeck serve`): the built renderer over HTTP and the contract over a WebSocket.
// On loopback by default (plain HTTP: the browser treats 127.0.0.1 as a secure context); with
// --allow-remote over HTTPS with a certificate made for the run, whose fingerprint is printed.
// Every request must name this server in its Host header (DNS rebinding), the WebSocket also
// needs the per-run token from the URL and, from a browser, this server's own Origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { MakerdeckError, WS_MAX_FRAME_BYTES, WS_PATH, WS_TOKEN_PARAM, type ErrorCode } from '../contract';
import type { Host } from '../core/host';
import { endWith, guardServer, keepListening, serverTimeouts, type ServerLimits } from './guardServer';
import { planSite, type Site, type SiteOptions } from './planSite';
import { quote, rateLimitedLog, type NoteLog } from './rateLimitedLog';
import { SECURITY_HEADERS, hostForUrl, isAllowedHost, isAllowedOrigin, sitePolicy, type SitePolicy } from './security';
import type { TlsIdentity } from './selfSignedCertificate';
import { serveSocket, type SocketLimits } from './serveSocket';
import { serveStatic } from './staticFiles';

export interface WebServerOptions extends SiteOptions {
  host: Host;
  rendererDir: string;
  port?: number;
}

export interface ServeLimits extends ServerLimits, SocketLimits {
  /** Authenticated WebSockets at once (browser tabs); more are refused with 503. */
  maxClients: number;
}

export const SERVE_LIMITS: ServeLimits = {
  maxConnections: 128,
  maxClients: 32,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  tlsHandshakeMs: 10_000,
  maxInFlight: 64,
  maxBufferedBytes: 16 * 1024 * 1024,
  heartbeatMs: 10_000,
};

export interface WebServer {
  /** The URL to open, token included. */
  url: string;
  port: number;
  scheme: 'http' | 'https';
  /** With --allow-remote: the certificate the browser should show. */
  tls?: Pick<TlsIdentity, 'fingerprint256' | 'spkiSha256'>;
  close(): Promise<void>;
}

/** Starts browser mode; refuses (BAD_INPUT) a set-up that would be unsafe or unreachable. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const site = planSite(options);
  if (!existsSync(path.join(options.rendererDir, 'index.html'))) {
    const missing = path.join(options.rendererDir, 'index.html');
    throw new MakerdeckError('NOT_FOUND', `The renderer is not built (${missing} is missing): run npm run build`);
  }
  const note = rateLimitedLog(options.host.logger.child('serve'));
  const token = randomBytes(24).toString('base64url');
  const server = createServer(site, SERVE_LIMITS);
  guardServer(server, SERVE_LIMITS, note);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_FRAME_BYTES, perMessageDeflate: false });
  let policy: SitePolicy | undefined;

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    request.on('error', () => response.destroy());
    response.on('error', () => request.destroy());
    if (!policy || !isAllowedHost(request.headers.host, policy)) return refuseRequest(request, response, policy, note);
    serveStatic(options.rendererDir, request, response).catch((error: Error) => {
      note('static-error', 'error', `Serving a page file failed: ${quote(error.message)}`);
      response.destroy();
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = policy ? checkUpgrade(request, token, policy, sockets.clients.size) : STARTING;
    if (refusal) return refuseUpgrade(socket, refusal, request, note);
    sockets.handleUpgrade(request, socket, head, (ws) => serveSocket(ws, options.host, SERVE_LIMITS, note));
  });

  await listen(server, options.port ?? 0, site.bind);
  keepListening(server, note);
  const port = (server.address() as AddressInfo).port;
  policy = sitePolicy(site.tls ? 'https' : 'http', port, site.bind, site.publicHost);
  // The token rides in the fragment: browsers never send it in requests or Referer headers.
  const shown = hostForUrl(site.publicHost ?? site.bind);
  return {
    url: `${policy.scheme}://${shown}:${port}/#${WS_TOKEN_PARAM}=${token}`,
    port,
    scheme: policy.scheme,
    tls: site.tls && { fingerprint256: site.tls.fingerprint256, spkiSha256: site.tls.spkiSha256 },
    close: () => close(server, sockets),
  };
}

function createServer(site: Site, limits: ServeLimits): HttpServer | HttpsServer {
  const timeouts = serverTimeouts(limits);
  if (!site.tls) return createHttpServer(timeouts);
  return createHttpsServer({ ...timeouts, key: site.tls.key, cert: site.tls.cert, minVersion: 'TLSv1.2' });
}

interface Refusal {
  status: 401 | 403 | 404 | 421 | 503;
  code: ErrorCode;
  message: string;
  /** What the log says about it (rate-limited per kind). */
  kind: string;
}

const REASONS: Record<Refusal['status'], string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  421: 'Misdirected Request',
  503: 'Service Unavailable',
};

const PRINTED = 'open the address makerdeck serve printed';

function refusal(status: Refusal['status'], code: ErrorCode, kind: string, message: string): Refusal {
  return { status, code, kind, message };
}

const STARTING = refusal(503, 'UNAVAILABLE', 'starting', 'Makerdeck is still starting: try again in a moment');

/** Why a WebSocket upgrade is refused, or undefined to accept it. */
function checkUpgrade(request: IncomingMessage, token: string, policy: SitePolicy, clients: number) {
  if (!isAllowedHost(request.headers.host, policy)) return hostRefusal(policy);
  if (pathOf(request.url) !== WS_PATH) return refusal(404, 'NOT_FOUND', 'not-found', `The API is at ${WS_PATH}`);
  // Same origin only: another site in the user's browser must not borrow a leaked token.
  const origin = request.headers.origin;
  if (origin !== undefined && !isAllowedOrigin(origin, policy)) {
    return refusal(403, 'FORBIDDEN', 'origin', `Origin ${quote(origin)} is not this Makerdeck: ${PRINTED}`);
  }
  const given = Buffer.from(tokenOf(request.url));
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refusal(401, 'FORBIDDEN', 'token', `Wrong or missing token: ${PRINTED}, #token=… included`);
  }
  const { maxClients } = SERVE_LIMITS;
  if (clients >= maxClients) {
    return refusal(503, 'UNAVAILABLE', 'clients', `${maxClients} browser tabs are connected already: close one`);
  }
  return undefined;
}

function hostRefusal(policy: SitePolicy | undefined): Refusal {
  const names = policy ? policy.names.map((name) => `${name}:${policy.port}`).join(', ') : 'its own address';
  return refusal(421, 'FORBIDDEN', 'host', `This Makerdeck answers only to ${names}: ${PRINTED}`);
}

type Policy = SitePolicy | undefined;

function refuseRequest(request: IncomingMessage, response: ServerResponse, policy: Policy, note: NoteLog): void {
  const refusal = hostRefusal(policy);
  note(refusal.kind, 'info', `Refused a request for Host ${quote(request.headers.host)} (421)`);
  response.writeHead(refusal.status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', Connection: 'close' });
  response.end(JSON.stringify({ code: refusal.code, message: refusal.message }));
}

function refuseUpgrade(socket: Duplex, refusal: Refusal, request: IncomingMessage, note: NoteLog): void {
  const from = quote(request.socket.remoteAddress ?? 'unknown');
  note(`upgrade-${refusal.kind}`, 'info', `Refused a WebSocket from ${from}: ${refusal.message} (${refusal.status})`);
  const body = JSON.stringify({ code: refusal.code, message: refusal.message });
  const head = [
    `HTTP/1.1 ${refusal.status} ${REASONS[refusal.status]}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  endWith(socket, `${head.join('\r\n')}\r\n\r\n${body}`);
}

/** The path of a request target, or '' when it is not one (absolute-form garbage, …). */
function pathOf(target: string | undefined): string {
  return /^\/[^?#]*/.exec(target ?? '')?.[0] ?? '';
}

function tokenOf(target: string | undefined): string {
  const query = (target ?? '').split('?')[1] ?? '';
  return new URLSearchParams(query).get(WS_TOKEN_PARAM) ?? '';
}

function listen(server: HttpServer | HttpsServer, port: number, bind: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      const where = `${hostForUrl(bind)}:${port}`;
      reject(new MakerdeckError('UNAVAILABLE', `Cannot listen on ${where}: ${listenError(error, port)}`));
    };
    server.once('error', fail);
    server.listen(port, bind, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

function listenError(error: NodeJS.ErrnoException, port: number): string {
  if (error.code === 'EADDRINUSE') {
    return `port ${port} is already in use: pick another with --port, or --port 0 for any free one`;
  }
  if (error.code === 'EADDRNOTAVAIL') return 'that is not an address of this machine';
  return error.message;
}

function close(server: HttpServer | HttpsServer, sockets: WebSocketServer): Promise<void> {
  for (const client of sockets.clients) client.terminate();
  sockets.close();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
