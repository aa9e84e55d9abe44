// A WebSocket client by hand, on a plain node:net (or TLS) socket, so tests can send what no
// library would: malformed frames, half frames, resets, headers one byte at a time.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

export interface RawConnection {
  socket: net.Socket | tls.TLSSocket;
  /** Everything the server sent, headers included. */
  received(): Buffer;
  /** The HTTP status of the server's answer, once its status line arrived. */
  status(): number | undefined;
  /** The close code in the server's close frame, once one arrived. */
  closeCode(): number | undefined;
  /** Whether the server closed or reset the connection. */
  ended(): boolean;
}

export interface RawTarget {
  port: number;
  /** Connect with TLS, accepting any certificate (pinning is the caller's business). */
  tls?: boolean;
}

/** Opens a connection and records what comes back; nothing is sent. */
export async function rawConnect(target: RawTarget): Promise<RawConnection> {
  const socket = target.tls
    ? tls.connect({ port: target.port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'makerdeck.test' })
    : net.connect({ port: target.port, host: '127.0.0.1' });
  let data = Buffer.alloc(0);
  let ended = false;
  socket.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
  socket.on('error', () => undefined); // resets are what these tests provoke
  socket.on('close', () => (ended = true));
  await new Promise<void>((resolve, reject) => {
    socket.once(target.tls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => data,
    status: () => statusOf(data),
    closeCode: () => closeCodeOf(data),
    ended: () => ended,
  };
}

export interface UpgradeRequest {
  port: number;
  token?: string;
  host?: string;
  origin?: string;
  path?: string;
}

/** The text of a WebSocket upgrade request. */
export function upgradeRequest(request: UpgradeRequest): string {
  const lines = [
    `GET ${request.path ?? '/ws'}${request.token === undefined ? '' : `?token=${request.token}`} HTTP/1.1`,
    `Host: ${request.host ?? `127.0.0.1:${request.port}`}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
  ];
  if (request.origin) lines.push(`Origin: ${request.origin}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** RSV1..3 as the bits 0x40, 0x20, 0x10. */
  rsv?: number;
  mask?: boolean;
  /** Claim this payload length in the header whatever the payload is. */
  declaredLength?: bigint;
}

/** One client frame, masked unless told otherwise. */
export function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const length = spec.declaredLength ?? BigInt(payload.length);
  const mask = spec.mask ?? true;
  const head = [((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv ?? 0) | spec.opcode];
  const maskBit = mask ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(length);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), extended, payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), extended, key, masked]);
}

/** A close frame's payload: the code, then the reason. */
export function closePayload(code: number, reason: Buffer = Buffer.alloc(0)): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  return Buffer.concat([payload, reason]);
}

function statusOf(data: Buffer): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(data.subarray(0, 20).toString('latin1'));
  return match ? Number(match[1]) : undefined;
}

/** Walks the server's (unmasked) frames after the 101 headers and returns the close code, if any. */
function closeCodeOf(data: Buffer): number | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (statusOf(data) !== 101 || end < 0) return undefined;
  for (let at = end + 4; at + 2 <= data.length;) {
    const opcode = data[at]! & 0x0f;
    let length = data[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) [length, start] = [data.readUInt16BE(at + 2), at + 4];
    else if (length === 127) [length, start] = [Number(data.readBigUInt64BE(at + 2)), at + 10];
    if (start + length > data.length) return undefined;
    if (opcode === 0x8) return length >= 2 ? data.readUInt16BE(start) : 1005;
    at = start + length;
  }
  return undefined;
}

/** Writes `text` one byte every `ms` until the socket closes or `stop` says so. */
export async function trickle(socket: Duplex, text: string | Buffer, ms: number, stop: () => boolean): Promise<void> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let i = 0; i < bytes.length && !stop() && !socket.destroyed; i += 1) {
    socket.write(bytes.subarray(i, i + 1));
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
