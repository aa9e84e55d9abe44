// The serial monitor: reads a port line by line and hands lines out in batches (one event per
// 50 ms at most, never one per line), so a 2 Mbaud stream cannot flood the UI.
import { randomUUID } from 'node:crypto';
import type { SerialPort } from 'serialport';
import { MakerdeckError, type MonitorLine, type MonitorLines, type MonitorState } from '../../contract';
import { plotValues } from '../lineProtocol';
import { closePort, openSerialPort } from './openPort';

const FLUSH_MS = 50;
/** A line longer than this is cut: a device printing without newlines must not grow memory. */
const MAX_LINE = 4096;

export interface MonitorEvents {
  lines(batch: MonitorLines): void;
  state(state: MonitorState): void;
}

interface Session {
  id: string;
  port: SerialPort;
  path: string;
  partial: string;
  pending: MonitorLine[];
  timer?: NodeJS.Timeout;
  closing: boolean;
}

export class SerialMonitor {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly events: MonitorEvents) {}

  async open(path: string, baudRate: number): Promise<{ sessionId: string }> {
    if ([...this.sessions.values()].some((s) => s.path === path))
      throw new MakerdeckError('UNAVAILABLE', `${path} is already open in the monitor`);
    const port = await openSerialPort(path, baudRate);
    const session: Session = { id: randomUUID(), port, path, partial: '', pending: [], closing: false };
    this.sessions.set(session.id, session);
    port.on('data', (chunk: Buffer) => this.receive(session, chunk.toString('latin1')));
    // Unhandled, a stream error (EIO on unplug) would end the whole app.
    port.on('error', (error: Error) => this.closed(session, `the port failed (${error.message})`));
    port.on('close', (error?: Error & { disconnected?: boolean }) =>
      this.closed(
        session,
        error?.disconnected ? 'the device was unplugged' : session.closing ? undefined : 'the port closed',
      ),
    );
    this.events.state({ sessionId: session.id, port: path, state: 'open' });
    return { sessionId: session.id };
  }

  async send(sessionId: string, text: string, ending: 'none' | 'lf' | 'crlf'): Promise<void> {
    const session = this.session(sessionId);
    const data = text + (ending === 'lf' ? '\n' : ending === 'crlf' ? '\r\n' : '');
    await new Promise<void>((resolve, reject) =>
      session.port.write(Buffer.from(data, 'utf8'), (error) =>
        error
          ? reject(new MakerdeckError('UNAVAILABLE', `Could not send to ${session.path}: ${error.message}`))
          : resolve(),
      ),
    );
  }

  async close(sessionId: string): Promise<void> {
    const session = this.session(sessionId);
    session.closing = true;
    await closePort(session.port);
    this.closed(session);
  }

  /** Lets another user of the port (the flasher) have it. */
  async release(path: string): Promise<void> {
    for (const session of [...this.sessions.values()]) if (session.path === path) await this.close(session.id);
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.sessions.keys()]) await this.close(id);
  }

  private session(id: string): Session {
    const session = this.sessions.get(id);
    if (!session) throw new MakerdeckError('NOT_FOUND', 'That monitor session is closed: open the port again');
    return session;
  }

  private receive(session: Session, text: string): void {
    const parts = (session.partial + text).split('\n');
    session.partial = parts.pop() ?? '';
    if (session.partial.length > MAX_LINE) {
      parts.push(session.partial);
      session.partial = '';
    }
    const now = Date.now();
    for (const part of parts) {
      const line = part.replace(/\r$/, '').slice(0, MAX_LINE);
      session.pending.push({ t: now, text: line, values: plotValues(line) });
    }
    session.timer ??= setTimeout(() => this.flush(session), FLUSH_MS);
  }

  private flush(session: Session): void {
    session.timer = undefined;
    if (session.pending.length === 0) return;
    const lines = session.pending;
    session.pending = [];
    this.events.lines({ sessionId: session.id, lines });
  }

  private closed(session: Session, reason?: string): void {
    if (!this.sessions.delete(session.id)) return;
    clearTimeout(session.timer);
    this.flush(session);
    this.events.state({ sessionId: session.id, port: session.path, state: 'closed', reason });
  }
}
