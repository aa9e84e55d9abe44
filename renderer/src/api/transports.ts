// The two ways the renderer reaches the core: Electron IPC (through the preload bridge) or a
// WebSocket to `makerdeck serve`. Both carry the same contract frames.
import {
  WS_MAX_FRAME_BYTES,
  WS_PATH,
  WS_TOKEN_PARAM,
  type ClientFrame,
  type MakerdeckBridge,
  type ServerFrame,
} from '../../../electron/contract/wire';
import type { Reply } from '../../../electron/contract/errors';

export interface Transport {
  /** How this page reaches the core: Electron IPC (the desktop app) or a WebSocket (browser mode). */
  readonly kind: 'ipc' | 'websocket';
  call(name: string, args: unknown): Promise<Reply<unknown>>;
  onEvent(listener: (name: string, payload: unknown) => void): () => void;
  onState(listener: (connected: boolean) => void): () => void;
}

declare global {
  interface Window {
    makerdeck?: MakerdeckBridge;
  }
}

export function ipcTransport(bridge: MakerdeckBridge): Transport {
  return {
    kind: 'ipc',
    call: bridge.call,
    onEvent: bridge.onEvent,
    onState: (listener) => (listener(true), () => {}),
  };
}

/** How long a call waits for the socket to (re)connect before failing with DISCONNECTED. */
const CONNECT_GRACE_MS = 5000;

/** Reconnects with backoff; a call made while (re)connecting waits for the socket, up to CONNECT_GRACE_MS. */
export function webSocketTransport(url: string): Transport {
  const pending = new Map<number, (reply: Reply<unknown>) => void>();
  const eventListeners = new Set<(name: string, payload: unknown) => void>();
  const stateListeners = new Set<(connected: boolean) => void>();
  const openWaiters = new Set<() => void>();
  let socket: WebSocket | undefined;
  let nextId = 1;
  let delay = 250;

  const setState = (connected: boolean) => stateListeners.forEach((listener) => listener(connected));
  const connect = () => {
    socket = new WebSocket(url);
    socket.onopen = () => {
      delay = 250;
      setState(true);
      openWaiters.forEach((wake) => wake());
      openWaiters.clear();
    };
    socket.onmessage = (message) => {
      const frame = JSON.parse(String(message.data)) as ServerFrame;
      if (frame.type === 'reply') pending.get(frame.id)?.(frame.reply);
      else eventListeners.forEach((listener) => listener(frame.name, frame.payload));
    };
    socket.onclose = () => {
      setState(false);
      for (const resolve of pending.values()) resolve(disconnected());
      pending.clear();
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  connect();

  const isOpen = () => socket?.readyState === WebSocket.OPEN;
  const waitForOpen = () =>
    new Promise<boolean>((resolve) => {
      if (isOpen()) return resolve(true);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        openWaiters.delete(wake);
        resolve(false);
      }, CONNECT_GRACE_MS);
      openWaiters.add(wake);
    });

  return {
    kind: 'websocket',
    async call(name, args) {
      if (!(await waitForOpen())) return disconnected();
      const id = nextId++;
      const frame: ClientFrame = { type: 'call', id, name, args };
      const text = JSON.stringify(frame);
      // The server closes the connection on a frame over its limit: say so here instead.
      if (new TextEncoder().encode(text).length > WS_MAX_FRAME_BYTES) return tooLarge(name);
      return new Promise((resolve) => {
        pending.set(id, (reply) => {
          pending.delete(id);
          resolve(reply);
        });
        socket!.send(text);
      });
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onState(listener) {
      stateListeners.add(listener);
      if (socket?.readyState !== WebSocket.CONNECTING) listener(socket?.readyState === WebSocket.OPEN);
      return () => stateListeners.delete(listener);
    },
  };
}

function tooLarge(name: string): Reply<unknown> {
  const limit = `${WS_MAX_FRAME_BYTES / 1024 / 1024} MiB`;
  const message = `The ${name} request is larger than ${limit}, more than browser mode takes at once: send less`;
  return { ok: false, error: { code: 'BAD_INPUT', message } };
}

function disconnected(): Reply<unknown> {
  return {
    ok: false,
    error: {
      code: 'DISCONNECTED',
      message: 'Lost the connection to Makerdeck; it reconnects by itself — try again in a moment',
    },
  };
}

/** In Electron the preload provides the bridge; in a browser the token comes from the URL fragment. */
export function defaultTransport(): Transport {
  if (window.makerdeck) return ipcTransport(window.makerdeck);
  const token =
    new URLSearchParams(window.location.hash.slice(1)).get(WS_TOKEN_PARAM) ??
    sessionStorage.getItem(WS_TOKEN_PARAM) ??
    '';
  // Keep the token for reloads and page changes, but take it out of the address bar.
  sessionStorage.setItem(WS_TOKEN_PARAM, token);
  if (window.location.hash.includes(`${WS_TOKEN_PARAM}=`)) history.replaceState(null, '', '#/');
  const wsUrl = new URL(WS_PATH, window.location.href);
  wsUrl.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  wsUrl.hash = '';
  wsUrl.searchParams.set(WS_TOKEN_PARAM, token);
  return webSocketTransport(wsUrl.href);
}
