// Is a Secret Service on the D-Bus session bus? Asked over the bus's own socket before the keyring
// library is used, because that library blocks the main thread — and keeps the process from
// exiting — while the bus waits (up to 25 s, several times over) for a Secret Service that never
// starts. Speaks just enough D-Bus for three calls: Hello, NameHasOwner, StartServiceByName.
import net from 'node:net';

const SECRETS = 'org.freedesktop.secrets';
const BUS = 'org.freedesktop.DBus';
const FIX = [
  'Install and start a Secret Service: gnome-keyring (apt install gnome-keyring) or KeePassXC with its Secret Service',
  'integration on; on a headless machine run Makerdeck under dbus-run-session with gnome-keyring-daemon --unlock',
].join(' ');

export interface BusDiagnosis {
  summary: string;
  fix: string;
}

export interface BusLimits {
  /** Connecting, authenticating and asking whether the name has an owner. */
  answerMs: number;
  /** Waiting for the bus to start an activatable Secret Service. */
  startMs: number;
}

/**
 * Resolves undefined when a Secret Service owns its name on the session bus (or can be started
 * within `startMs`), or when the bus cannot be checked this way (not Linux, a non-unix address);
 * otherwise resolves what is wrong and how to fix it. Never rejects.
 */
export async function diagnoseSecretService(
  env: NodeJS.ProcessEnv,
  limits: BusLimits,
): Promise<BusDiagnosis | undefined> {
  if (process.platform !== 'linux') return undefined;
  const address = sessionBusAddress(env);
  if (address === null) {
    const summary = 'No D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist';
    return { summary, fix: FIX };
  }
  if (address === undefined) return undefined;
  const client = new BusClient(address, limits);
  try {
    return await client.diagnose();
  } finally {
    client.close();
  }
}

/** A unix socket path ('\0…' for an abstract one), undefined for transports not checked here, null for none at all. */
function sessionBusAddress(env: NodeJS.ProcessEnv): string | null | undefined {
  const value = env.DBUS_SESSION_BUS_ADDRESS;
  if (!value) return env.XDG_RUNTIME_DIR ? `${env.XDG_RUNTIME_DIR}/bus` : null;
  for (const entry of value.split(';')) {
    const [transport, params = ''] = entry.split(/:(.*)/s);
    if (transport !== 'unix') continue;
    const options = new Map(params.split(',').map((pair) => pair.split(/=(.*)/s) as [string, string]));
    const byte = (_: string, hex: string) => String.fromCharCode(parseInt(hex, 16));
    const unescape = (text: string) => text.replace(/%([0-9a-f]{2})/gi, byte);
    if (options.has('path')) return unescape(options.get('path')!);
    if (options.has('abstract')) return `\0${unescape(options.get('abstract')!)}`;
  }
  return undefined;
}

interface Reply {
  type: number;
  replySerial?: number;
  errorName?: string;
  signature: string;
  body: Buffer;
  littleEndian: boolean;
}

class BusClient {
  private readonly socket: net.Socket;
  private readonly shown: string;
  private received = Buffer.alloc(0);
  private authenticated = false;
  private waiting = new Map<number, (reply: Reply) => void>();
  private failed?: (error: Error) => void;
  private authentication?: { resolve: () => void; reject: (error: Error) => void };

  constructor(
    path: string,
    private readonly limits: BusLimits,
  ) {
    this.shown = path.startsWith('\0') ? `unix:abstract=${path.slice(1)}` : path;
    this.socket = net.connect({ path });
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (error) => this.failed?.(error));
    this.socket.on('close', () => this.failed?.(new Error('the bus closed the connection')));
  }

  close(): void {
    this.socket.destroy();
  }

  async diagnose(): Promise<BusDiagnosis | undefined> {
    let owned: boolean;
    try {
      owned = await this.within(this.limits.answerMs, async () => {
        await this.authenticate();
        await this.call(1, 'Hello', '', () => {});
        return firstUint32(await this.call(2, 'NameHasOwner', 's', (w) => w.string(SECRETS))) === 1;
      });
    } catch (error) {
      return this.busProblem(error as Error);
    }
    if (owned) return undefined;
    try {
      const start = () => this.call(3, 'StartServiceByName', 'su', (w) => (w.string(SECRETS), w.uint32(0)));
      await this.within(this.limits.startMs, start);
      return undefined;
    } catch (error) {
      return this.startProblem(error as Error);
    }
  }

  private busProblem(error: Error): BusDiagnosis {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      return { summary: `No D-Bus session bus runs at ${this.shown} (${code})`, fix: FIX };
    }
    if (error instanceof TimeUp) {
      const summary = `The D-Bus session bus at ${this.shown} did not answer within ${seconds(this.limits.answerMs)}`;
      return { summary, fix: FIX };
    }
    return { summary: `The D-Bus session bus at ${this.shown} failed: ${error.message}`, fix: FIX };
  }

  private startProblem(error: Error): BusDiagnosis {
    if (error instanceof TimeUp) {
      const within = seconds(this.limits.startMs);
      const summary = `No Secret Service on the session bus: ${SECRETS} did not start within ${within}`;
      return { summary, fix: FIX };
    }
    if (error instanceof BusError && error.name === `${BUS}.Error.ServiceUnknown`) {
      return { summary: `No Secret Service on the session bus: nothing there provides ${SECRETS}`, fix: FIX };
    }
    const summary = `No Secret Service on the session bus: ${SECRETS} could not be started (${error.message})`;
    return { summary, fix: FIX };
  }

  private within<T>(ms: number, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeUp()), ms);
      this.failed = (error) => reject(error);
      work()
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  }

  /** SASL EXTERNAL: the bus knows who we are from the socket's peer credentials. */
  private authenticate(): Promise<void> {
    const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
    this.socket.write(`\0AUTH EXTERNAL ${uid}\r\n`);
    return new Promise((resolve, reject) => (this.authentication = { resolve, reject }));
  }

  private call(serial: number, member: string, signature: string, args: (w: Writer) => void): Promise<Reply> {
    const body = new Writer();
    args(body);
    this.socket.write(methodCall(serial, member, signature, body.bytes()));
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(serial, (reply) => (reply.type === 3 ? reject(new BusError(reply)) : resolve(reply)));
    });
  }

  private onData(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    if (!this.authenticated) {
      const end = this.received.indexOf('\r\n');
      if (end < 0) return;
      const line = this.received.subarray(0, end).toString('latin1');
      this.received = this.received.subarray(end + 2);
      if (!line.startsWith('OK ')) {
        return this.authentication?.reject(new Error(`the bus refused authentication (${line.slice(0, 60)})`));
      }
      this.authenticated = true;
      this.socket.write('BEGIN\r\n');
      this.authentication?.resolve();
    }
    for (let message = parseMessage(this.received); message; message = parseMessage(this.received)) {
      this.received = this.received.subarray(message.length);
      const { reply } = message;
      if (reply.replySerial !== undefined) this.waiting.get(reply.replySerial)?.(reply);
    }
  }
}

class TimeUp extends Error {}

class BusError extends Error {
  constructor(reply: Reply) {
    const text = reply.signature.startsWith('s') ? readString(reply.body, 0, reply.littleEndian) : '';
    super(text || reply.errorName || 'error');
    this.name = reply.errorName ?? 'error';
  }
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;
const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** Little-endian D-Bus marshalling of the few types used here; offsets count from the message start. */
class Writer {
  private parts: number[] = [];

  bytes(): Buffer {
    return Buffer.from(this.parts);
  }
  get length(): number {
    return this.parts.length;
  }
  pad(to: number): void {
    while (this.parts.length % to) this.parts.push(0);
  }
  byte(value: number): void {
    this.parts.push(value & 0xff);
  }
  uint32(value: number): void {
    this.pad(4);
    for (let i = 0; i < 4; i++) this.parts.push((value >>> (8 * i)) & 0xff);
  }
  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.uint32(bytes.length);
    this.parts.push(...bytes, 0);
  }
  signature(value: string): void {
    this.byte(value.length);
    this.parts.push(...Buffer.from(value, 'latin1'), 0);
  }
}

function methodCall(serial: number, member: string, signature: string, body: Buffer): Buffer {
  const fields = new Writer();
  const field = (code: number, type: string, write: () => void) => {
    fields.pad(8);
    fields.byte(code);
    fields.signature(type);
    write();
  };
  // The fields are written at offset 16 of the message, which keeps every alignment the same.
  field(1, 'o', () => fields.string('/org/freedesktop/DBus'));
  field(2, 's', () => fields.string(BUS));
  field(3, 's', () => fields.string(member));
  field(6, 's', () => fields.string(BUS));
  if (signature) field(8, 'g', () => fields.signature(signature));
  const header = new Writer();
  header.byte(0x6c); // 'l': little-endian
  header.byte(1); // METHOD_CALL
  header.byte(0);
  header.byte(1); // protocol version
  header.uint32(body.length);
  header.uint32(serial);
  header.uint32(fields.length);
  const head = Buffer.concat([header.bytes(), fields.bytes()]);
  return Buffer.concat([head, Buffer.alloc(align(head.length, 8) - head.length), body]);
}

/** The first whole message in `data` and its length in bytes, or undefined while it is incomplete. */
function parseMessage(data: Buffer): { reply: Reply; length: number } | undefined {
  if (data.length < 16) return undefined;
  const littleEndian = data[0] === 0x6c;
  const u32 = (at: number) => (littleEndian ? data.readUInt32LE(at) : data.readUInt32BE(at));
  const fieldsEnd = 16 + u32(12);
  const bodyStart = align(fieldsEnd, 8);
  const total = bodyStart + u32(4);
  if (data.length < total) return undefined;
  const reply: Reply = { type: data[1]!, signature: '', body: data.subarray(bodyStart, total), littleEndian };
  for (let at = 16; at < fieldsEnd;) {
    at = align(at, 8);
    const code = data[at]!;
    const type = data.toString('latin1', at + 2, at + 2 + data[at + 1]!);
    at += 3 + data[at + 1]!;
    if (type === 'u') {
      at = align(at, 4);
      if (code === 5) reply.replySerial = u32(at);
      at += 4;
    } else if (type === 's' || type === 'o') {
      at = align(at, 4);
      const text = readString(data, at, littleEndian);
      if (code === 4) reply.errorName = text;
      at += 5 + Buffer.byteLength(text);
    } else if (type === 'g') {
      const text = data.toString('latin1', at + 1, at + 1 + data[at]!);
      if (code === 8) reply.signature = text;
      at += 2 + data[at]!;
    } else {
      break; // a field type none of the bus's replies use: skip the rest of the header
    }
  }
  return { reply, length: total };
}

function readString(data: Buffer, at: number, littleEndian: boolean): string {
  const length = littleEndian ? data.readUInt32LE(at) : data.readUInt32BE(at);
  return data.toString('utf8', at + 4, at + 4 + length);
}

/** The first uint32 of a reply's body: NameHasOwner's boolean, StartServiceByName's result. */
function firstUint32(reply: Reply): number {
  return reply.littleEndian ? reply.body.readUInt32LE(0) : reply.body.readUInt32BE(0);
}
