// Errors cross every boundary (IPC, WebSocket, CLI) as a stable code plus one human line, never a stack.

export const ERROR_CODES = [
  'BAD_INPUT', // the caller sent something invalid; the message says what and how to fix it
  'UNKNOWN_METHOD', // a request name the contract does not declare
  'FORBIDDEN', // the caller is not the app's own page, or the token is wrong
  'NOT_FOUND',
  'UNAVAILABLE', // a device or service is missing or not answering
  'TIMEOUT',
  'CANCELLED',
  'DISCONNECTED', // the transport dropped before a reply arrived
  'INTERNAL', // a bug: details go to the log, not to the caller
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface WireError {
  code: ErrorCode;
  message: string;
}

export type Reply<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** The one error type services throw and clients receive. */
export class MakerdeckError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'MakerdeckError';
    this.code = code;
  }

  toWire(): WireError {
    return { code: this.code, message: this.message };
  }

  static fromWire(error: WireError): MakerdeckError {
    return new MakerdeckError(error.code, error.message);
  }
}

export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message } = value as Record<string, unknown>;
  return typeof message === 'string' && (ERROR_CODES as readonly unknown[]).includes(code);
}
