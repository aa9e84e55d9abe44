// The station's closed loop (brokerOnlineChecker.ts builds it on the broker): a flashed board counts as done when its
// first telemetry under its own id has arrived on its own topic, not when the write finished.
import type { FlashBoard } from '../../contract';

export interface OnlineWait {
  deviceId: string;
  /** The board's port: a board without Wi-Fi (the Uno) reaches the broker through a gateway on it. */
  port: string;
  board: FlashBoard;
  timeoutMs: number;
  signal: AbortSignal;
  /** What the wait is on now, e.g. "waiting for the broker: connection refused". */
  onWait(message: string): void;
}

export interface OnlineChecker {
  /** 'online' at the board's first telemetry under its id; 'silent' when none came within timeoutMs. */
  wait(args: OnlineWait): Promise<'online' | 'silent'>;
  /** Ends the gateways and the broker connection. */
  close(): Promise<void>;
}
