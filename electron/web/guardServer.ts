// The server-wide safety net of browser mode: every socket gets an error listener the moment it is
// accepted (so no code path can forget one), malformed or slow requests are answered and closed,
// and the number of connections is capped.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { quote, type NoteLog } from './rateLimitedLog';

export interface ServerLimits {
  /** Open TCP connections, WebSockets included; more are closed on accept. */
  maxConnections: number;
  /** Request headers must be complete within this (slowloris). */
  headersTimeoutMs: number;
  /** A whole request must arrive within this. */
  requestTimeoutMs: number;
  /** A connection with no traffic either way is closed after this (until it becomes a WebSocket). */
  idleTimeoutMs: number;
  /** A TLS handshake must finish within this. */
  tlsHandshakeMs: number;
}

/** The options Node's HTTP(S) server takes for these limits. */
export function serverTimeouts(limits: ServerLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs / 2),
    keepAliveTimeout: 5000,
    handshakeTimeout: limits.tlsHandshakeMs,
  };
}

/** Installs the error paths and caps on `server`; call before it listens, and keepListening after. */
export function guardServer(server: HttpServer | HttpsServer, limits: ServerLimits, note: NoteLog): void {
  const onSocketError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return; // the client went away: nothing to say
    note('socket-error', 'info', `A connection failed: ${quote(error.code ?? error.message)}`);
  };
  const guard = (socket: Duplex) => socket.on('error', onSocketError);
  // 'connection' is every accepted TCP socket; 'secureConnection' the TLS socket wrapped around it.
  server.on('connection', (socket: Socket) => guard(socket));
  server.on('secureConnection', guard);
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const why = quote(error.code ?? error.message);
    note('tls-error', 'info', `A TLS handshake failed (is the browser using http:// instead of https://?): ${why}`);
    socket.destroy();
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, note));
  server.maxConnections = limits.maxConnections;
  server.setTimeout(limits.idleTimeoutMs);
}

/** Once listening: accept errors (EMFILE, …) are logged; without a listener they end the process. */
export function keepListening(server: HttpServer | HttpsServer, note: NoteLog): void {
  server.on('error', (error: NodeJS.ErrnoException) => {
    const why = quote(error.code ?? error.message);
    note('server-error', 'warn', `The web server hit an error and keeps running: ${why}`);
  });
}

const CLIENT_ERROR_STATUS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};

/** A request Node could not parse or that timed out: a short status line, then the socket closes. */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, note: NoteLog): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? '400 Bad Request';
  const why = quote(error.code ?? error.message);
  note('client-error', 'info', `Refused a malformed or slow request: ${why} (${status.slice(0, 3)})`);
  endWith(socket, `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Writes a last response and closes, also when the client never reads it or never closes its side. */
export function endWith(socket: Duplex, response: string): void {
  const timer = setTimeout(() => socket.destroy(), 2000).unref();
  socket.end(response, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}
