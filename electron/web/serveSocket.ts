// One authenticated WebSocket: contract calls in, replies and events out. Whatever the client sends
// (bad frames, floods, silence) ends at most this connection, never the server.
import type { WebSocket } from 'ws';
import type { ClientFrame, ServerFrame } from '../contract';
import type { Host } from '../core/host';
import { quote, type NoteLog } from './rateLimitedLog';

export interface SocketLimits {
  /** Calls one connection may have running at once; more are answered UNAVAILABLE at once. */
  maxInFlight: number;
  /** Output queued for a client that does not read; past it the connection is dropped. */
  maxBufferedBytes: number;
  /** Ping interval; a client that has not answered the previous ping by the next is dropped. */
  heartbeatMs: number;
}

/** Serves the contract on `ws` until it closes. */
export function serveSocket(ws: WebSocket, host: Host, limits: SocketLimits, note: NoteLog): void {
  // First of all: a malformed frame (bad UTF-8, reserved bits, too long, …) arrives as an 'error'
  // event, which would end the process without a listener. ws closes the connection itself.
  ws.on('error', (error: Error & { code?: string }) => {
    note('ws-error', 'info', `Closed a browser connection: ${quote(error.code ?? error.message)}`);
  });
  const send = sender(ws, limits, note);
  const unsubscribe = host.bus.onAny((name, payload) => send({ type: 'event', name, payload }));
  const stopHeartbeat = heartbeat(ws, limits.heartbeatMs, note);
  ws.once('close', () => {
    unsubscribe();
    stopHeartbeat();
  });
  let inFlight = 0;
  ws.on('message', (data, isBinary) => {
    const frame = isBinary ? undefined : parseFrame(String(data));
    if (!frame) return ws.close(1003, 'Frames must be JSON text {type:"call", id, name, args}');
    if (inFlight >= limits.maxInFlight) {
      const message = `${limits.maxInFlight} requests are already running on this connection: wait for some to finish`;
      return send({ type: 'reply', id: frame.id, reply: { ok: false, error: { code: 'UNAVAILABLE', message } } });
    }
    inFlight += 1;
    host
      .call(frame.name, frame.args)
      .then((reply) => send({ type: 'reply', id: frame.id, reply }))
      .catch((error: Error) => note('call-failed', 'error', `A call failed outside dispatch: ${quote(error.message)}`))
      .finally(() => (inFlight -= 1));
  });
}

/** Sends frames while the client keeps up; drops a client that lets output pile up. */
function sender(ws: WebSocket, limits: SocketLimits, note: NoteLog): (frame: ServerFrame) => void {
  return (frame) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      const queued = Math.round(ws.bufferedAmount / 1024);
      const message = `Dropped a browser connection that stopped reading (${queued} KiB queued); it reconnects`;
      note('slow-client', 'warn', message);
      return ws.terminate();
    }
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (error) {
      const what = frame.type === 'event' ? frame.name : 'a reply';
      return note('unsendable', 'error', `Could not send ${what}: ${quote((error as Error).message)}`);
    }
    ws.send(text, (error) => {
      if (error) note('send-failed', 'debug', `A send to a browser failed: ${quote(error.message)}`);
    });
  };
}

/** Pings every `ms`; a client that missed the last ping (gone, or stuck mid-frame) is cut off. */
function heartbeat(ws: WebSocket, ms: number, note: NoteLog): () => void {
  let answered = true;
  ws.on('pong', () => (answered = true));
  const timer = setInterval(() => {
    if (!answered) {
      const seconds = Math.round(ms / 1000);
      note('no-pong', 'info', `Dropped a browser connection that did not answer a ping within ${seconds} s`);
      return ws.terminate();
    }
    answered = false;
    ws.ping();
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

function parseFrame(text: string): ClientFrame | undefined {
  try {
    const frame = JSON.parse(text) as Partial<ClientFrame>;
    const valid = frame.type === 'call' && Number.isSafeInteger(frame.id) && typeof frame.name === 'string';
    if (valid) return frame as ClientFrame;
  } catch {
    // fall through: not JSON
  }
  return undefined;
}
