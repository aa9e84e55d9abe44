// Browser mode (`makerdeck serve`): the built renderer over HTTP and the contract over a WebSocket.
// On loopback by default (plain HTTP: the browser treats 127.0.0.1 as a secure context); with
// --allow-remote over HTTPS with a certificate made for the run, whose fingerprint is printed.
// Every request must name this server in its Host header (DNS rebinding), the WebSocket also
// needs the per-run token from the URL and, from a browser, this server's own Origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { MakerdeckError, WS_MAX_FRAME_BYTES, WS_PATH, WS_TOKEN_PARAM, type ErrorCode } from '../contract';
import type { Host } from '../core/host';
import { endWith, guardServer, keepListening, serverTimeouts, type ServerLimits } from './guardServer';
import { quote, rateLimitedLog, type NoteLog } from './rateLimitedLog';
import { SECURITY_HEADERS, hostForUrl, isAllowedHost, isAllowedOrigin, isLoopbackHost, isWildcardHost, sitePolicy, type SitePolicy } from './security';
import { selfSignedCertificate, type TlsIdentity } from './selfSignedCertificate';
import { serveSocket, type SocketLimits } from './serveSocket';
import { serveStatic } from './staticFiles';

export interface WebServerOptions {
  host: Host;
  rendererDir: string;
  port?: number;
  /** The address to listen on (default 127.0.0.1); IPv6 with or without brackets. */
  bind?: string;
  /** Must be true to bind anything but a loopback address; the server then speaks HTTPS only. */
  allowRemote?: boolean;
  /** The name or address other machines type to reach this one (required for a wildcard bind). */
  publicHost?: string;
  limits?: Partial<ServeLimits>;
}

export interface ServeLimits extends ServerLimits, SocketLimits {
  /** Authenticated WebSockets at once (browser tabs); more are refused with 503. */
  maxClients: number;
}

export const DEFAULT_SERVE_LIMITS: ServeLimits = {
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

interface Site {
  bind: string;
  publicHost?: string;
  tls?: TlsIdentity;
}

/** Starts browser mode; refuses (BAD_INPUT) a remote set-up that would be unsafe or unreachable. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const site = planSite(options);
  if (!existsSync(path.join(options.rendererDir, 'index.html'))) {
    throw new MakerdeckError('NOT_FOUND', `The renderer is not built (${options.rendererDir}/index.html is missing): run npm run build`);
  }
  const limits = { ...DEFAULT_SERVE_LIMITS, ...options.limits };
  const note = rateLimitedLog(options.host.logger.child('serve'));
  const token = randomBytes(24).toString('base64url');
  const server = createServer(site, limits);
  guardServer(server, limits, note);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_FRAME_BYTES, perMessageDeflate: false });
  let policy: SitePolicy | undefined;

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    request.on('error', () => response.destroy());
    response.on('error', () => request.destroy());
    if (!policy || !isAllowedHost(request.headers.host, policy)) return refuseRequest(response, wrongHost(request, policy, note));
    serveStatic(options.rendererDir, request, response).catch((error: Error) => {
      note('static-error', 'error', `Serving a page file failed: ${quote(error.message)}`);
      response.destroy();
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = policy ? checkUpgrade(request, token, policy, sockets.clients.size, limits.maxClients) : SERVICE_STARTING;
    if (refusal) return refuseUpgrade(socket, refusal, request, note);
    sockets.handleUpgrade(request, socket, head, (ws) => serveSocket(ws, options.host, limits, note));
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

/** Where to listen and under which name, checked before anything starts. */
function planSite(options: WebServerOptions): Site {
  const requested = (options.bind ?? (options.allowRemote ? '0.0.0.0' : '127.0.0.1')).replace(/^\[(.*)\]$/, '$1');
  if (requested !== 'localhost' && isIP(requested) === 0) {
    throw new MakerdeckError('BAD_INPUT', `--host ${quote(requested)} is not an IP address: give one of this machine's addresses (${machineAddresses()}), 127.0.0.1 or ::1`);
  }
  if (isLoopbackHost(requested) && !options.allowRemote) {
    if (options.publicHost) throw new MakerdeckError('BAD_INPUT', '--public-host is for --allow-remote: without it Makerdeck answers on this machine only');
    return { bind: requested };
  }
  if (!options.allowRemote) {
    throw new MakerdeckError('BAD_INPUT', `Refusing to listen on ${requested}, which is not a loopback address: add --allow-remote (HTTPS, for other machines), or reach it over SSH: ssh -L PORT:127.0.0.1:PORT this-machine`);
  }
  const publicHost = options.publicHost?.replace(/^\[(.*)\]$/, '$1') ?? (isWildcardHost(requested) || isLoopbackHost(requested) ? undefined : requested);
  if (!publicHost) {
    throw new MakerdeckError('BAD_INPUT', `Name the address other machines use to reach this one: --public-host NAME (this machine's addresses: ${machineAddresses()})`);
  }
  if (isWildcardHost(publicHost) || !/^[A-Za-z0-9.:-]{1,253}$/.test(publicHost)) {
    throw new MakerdeckError('BAD_INPUT', `--public-host ${quote(publicHost)} is not a name or address a browser can open: use e.g. labbox.local or ${machineAddresses().split(', ')[0]}`);
  }
  const names = [...new Set([publicHost, 'localhost', '127.0.0.1', '::1'])];
  return { bind: requested, publicHost, tls: selfSignedCertificate(names) };
}

/** This machine's non-loopback addresses, for messages that ask the user to pick one. */
function machineAddresses(): string {
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && !a.address.startsWith('fe80:'))
    .map((a) => a!.address);
  return addresses.length ? addresses.join(', ') : 'none besides loopback';
}

function createServer(site: Site, limits: ServeLimits): HttpServer | HttpsServer {
  const timeouts = serverTimeouts(limits);
  if (!site.tls) return createHttpServer(timeouts);
  return createHttpsServer({ ...timeouts, key: site.tls.key, cert: site.tls.cert, minVersion: 'TLSv1.2' });
}

interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
  /** What the log says about it (rate-limited per kind). */
  kind: string;
}

const SERVICE_STARTING: Refusal = { status: 503, code: 'UNAVAILABLE', message: 'Makerdeck is still starting: try again in a moment', kind: 'starting' };

function checkUpgrade(request: IncomingMessage, token: string, policy: SitePolicy, clients: number, maxClients: number): Refusal | undefined {
  if (!isAllowedHost(request.headers.host, policy)) return hostRefusal(policy);
  if (pathOf(request.url) !== WS_PATH) return { status: 404, code: 'NOT_FOUND', message: `The API is at ${WS_PATH}`, kind: 'not-found' };
  // Same origin only: another site in the user's browser must not borrow a leaked token.
  const origin = request.headers.origin;
  if (origin !== undefined && !isAllowedOrigin(origin, policy)) {
    return { status: 403, code: 'FORBIDDEN', message: `Origin ${quote(origin)} is not this Makerdeck: open the address makerdeck serve printed`, kind: 'origin' };
  }
  const given = Buffer.from(tokenOf(request.url));
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { status: 401, code: 'FORBIDDEN', message: 'Wrong or missing token: open the full address makerdeck serve printed, #token=… included', kind: 'token' };
  }
  if (clients >= maxClients) return { status: 503, code: 'UNAVAILABLE', message: `${maxClients} browser tabs are already connected: close one`, kind: 'clients' };
  return undefined;
}

function hostRefusal(policy: SitePolicy | undefined): Refusal {
  const names = policy ? policy.names.map((name) => `${name}:${policy.port}`).join(', ') : 'its own address';
  return { status: 421, code: 'FORBIDDEN', message: `This Makerdeck answers only to ${names}: open the address makerdeck serve printed`, kind: 'host' };
}

function wrongHost(request: IncomingMessage, policy: SitePolicy | undefined, note: NoteLog): Refusal {
  const refusal = hostRefusal(policy);
  note(refusal.kind, 'info', `Refused a request for Host ${quote(request.headers.host)} (421)`);
  return refusal;
}

function refuseRequest(response: ServerResponse, refusal: Refusal): void {
  const body = JSON.stringify({ code: refusal.code, message: refusal.message });
  response.writeHead(refusal.status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', Connection: 'close' });
  response.end(body);
}

function refuseUpgrade(socket: Duplex, refusal: Refusal, request: IncomingMessage, note: NoteLog): void {
  const from = quote(request.socket.remoteAddress ?? 'unknown');
  note(`upgrade-${refusal.kind}`, 'info', `Refused a WebSocket from ${from}: ${refusal.message} (${refusal.status})`);
  const body = JSON.stringify({ code: refusal.code, message: refusal.message });
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 421: 'Misdirected Request', 503: 'Service Unavailable' }[refusal.status] ?? 'Refused';
  endWith(socket, `HTTP/1.1 ${refusal.status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** The path of a request target, or '' when it is not one (absolute-form garbage, …). */
function pathOf(target: string | undefined): string {
  return /^\/[^?#]*/.exec(target ?? '')?.[0] ?? '';
}

function tokenOf(target: string | undefined): string {
  const query = (target ?? '').split('?')[1] ?? '';
  try {
    return new URLSearchParams(query).get(WS_TOKEN_PARAM) ?? '';
  } catch {
    return '';
  }
}

function listen(server: HttpServer | HttpsServer, port: number, bind: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? `port ${port} is already in use: pick another with --port, or --port 0 for any free one` : error.code === 'EADDRNOTAVAIL' ? 'that is not an address of this machine' : error.message;
      reject(new MakerdeckError('UNAVAILABLE', `Cannot listen on ${hostForUrl(bind)}:${port}: ${why}`));
    };
    server.once('error', fail);
    server.listen(port, bind, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

function close(server: HttpServer | HttpsServer, sockets: WebSocketServer): Promise<void> {
  for (const client of sockets.clients) client.terminate();
  sockets.close();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
