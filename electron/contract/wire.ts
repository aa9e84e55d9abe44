// How the contract travels: Electron IPC channels, the preload bridge, and WebSocket frames.
// Kept free of dependencies so the sandboxed preload can import it.
import type { Reply } from './errors';

export const IPC_CALL_CHANNEL = 'makerdeck:call';
export const IPC_EVENT_CHANNEL = 'makerdeck:event';

/** The object the preload exposes as `window.makerdeck`. */
export interface MakerdeckBridge {
  call(name: string, args: unknown): Promise<Reply<unknown>>;
  /** Returns an unsubscribe function. */
  onEvent(listener: (name: string, payload: unknown) => void): () => void;
}

export const WS_PATH = '/ws';
export const WS_TOKEN_PARAM = 'token';
/**
 * The largest WebSocket frame `makerdeck serve` accepts (a bigger one closes the connection with 1009).
 * Every request's declared limits fit in it; bulk data (firmware files) travels in chunks.
 */
export const WS_MAX_FRAME_BYTES = 1024 * 1024;

export type ClientFrame = { type: 'call'; id: number; name: string; args: unknown };
export type ServerFrame =
  { type: 'reply'; id: number; reply: Reply<unknown> } | { type: 'event'; name: string; payload: unknown };
