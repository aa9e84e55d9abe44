// One serial connection to a board for Improv Wi-Fi serial (improv-wifi-serial-sdk's client over the
// Web-Serial adapter) and Makerdeck's own text query, sharing the line with the board's log and
// telemetry lines. The port's bytes are split in two: one branch for the SDK's frame reader, one for
// a line reader that picks out "makerdeck-info {json}". Every write goes through one queue, so the
// SDK's writes and ours never fight over the port's writer, and a failed write never rejects inside
// the SDK (which does not await its writes).
import { ImprovSerial } from 'improv-wifi-serial-sdk/dist/serial.js';
import { WebSerialPort, type PortOpener } from '../serial/webSerialPort';

const BAUD_RATE = 115200;
const INFO_PREFIX = 'makerdeck-info ';
/** How long one detection attempt waits for an answer before it asks again. */
const ATTEMPT_MS = 1000;
/** After an Improv answer, how long to wait for the info line (other Improv firmware never sends one). */
const INFO_GRACE_MS = 1500;

/** What answered during detection. */
export type Detected =
  { kind: 'makerdeck-info'; info: Record<string, unknown> } | { kind: 'improv' } | { kind: 'none' };

const quiet = { log: () => undefined, error: () => undefined, debug: () => undefined };

export class ImprovLink {
  readonly improv: ImprovSerial;
  /** Text lines seen (not frames), counted to tell "silent" from "some other firmware". */
  textLines = 0;
  private infoLine: Record<string, unknown> | undefined;
  private onInfo: (() => void) | undefined;
  private writes: Promise<void> = Promise.resolve();
  private writeFailed = false;
  private readonly lineReader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly reading: Promise<void>;

  private constructor(private readonly port: WebSerialPort) {
    const [forImprov, forLines] = port.readable!.tee();
    this.writer = port.writable!.getWriter();
    this.lineReader = forLines.getReader();
    const send = (bytes: Uint8Array) => this.send(bytes);
    // The SDK takes a fresh writer on every frame: hand it a fresh stream each time, into our queue.
    const shared = {
      readable: forImprov,
      get writable() {
        return new WritableStream<Uint8Array>({ write: send });
      },
    };
    this.improv = new ImprovSerial(shared as unknown as ConstructorParameters<typeof ImprovSerial>[0], quiet);
    // The SDK's frame reader. initialize() would start it too, but its detection leaves an unhandled
    // rejection (an async promise executor) and a 30 s timer behind when a board answers with an error;
    // `detect` below replaces it. The SDK is pinned (2.8.1), and a test drives this against the firmware.
    void (this.improv as unknown as { _processInput(): Promise<void> })._processInput();
    this.reading = this.readLines();
  }

  /** Opens the port (explained errors: busy, permission, missing) and starts reading. */
  static async open(path: string, open?: PortOpener): Promise<ImprovLink> {
    const port = new WebSerialPort(path, open ? { open } : {});
    await port.open({ baudRate: BAUD_RATE });
    return new ImprovLink(port);
  }

  get lost(): boolean {
    return this.port.isLost || this.writeFailed;
  }

  /** Queues bytes for the port; resolves when written, never rejects (a lost port shows in `lost`). */
  send(bytes: Uint8Array): Promise<void> {
    this.writes = this.writes
      .then(() => this.writer.write(bytes))
      .catch(() => {
        this.writeFailed = true;
      });
    return this.writes;
  }

  /**
   * Asks until something answers or `windowMs` ends: a board still booting after a flash or reset
   * misses the first requests, so each attempt waits at most a second and asks again. With
   * `wantInfo`, Makerdeck's info line is asked for too, and preferred.
   */
  async detect(windowMs: number, wantInfo: boolean): Promise<Detected> {
    const deadline = Date.now() + windowMs;
    while (Date.now() < deadline && !this.lost) {
      const started = Date.now();
      if (wantInfo) void this.send(new TextEncoder().encode('makerdeck info\n'));
      const improv = await this.improv
        .requestCurrentState(Math.max(100, Math.min(ATTEMPT_MS, deadline - Date.now())))
        .then(() => true)
        .catch(() => false);
      if (this.infoLine) return { kind: 'makerdeck-info', info: this.infoLine };
      if (improv) {
        if (wantInfo) await this.waitForInfo(INFO_GRACE_MS);
        return this.infoLine ? { kind: 'makerdeck-info', info: this.infoLine } : { kind: 'improv' };
      }
      // An answer that came at once (an error frame from a board that caught half a frame): pace the retries.
      await this.waitForInfo(Math.max(0, Math.min(ATTEMPT_MS - (Date.now() - started), deadline - Date.now())));
      if (this.infoLine) return { kind: 'makerdeck-info', info: this.infoLine };
    }
    return { kind: 'none' };
  }

  /** Stops reading and closes the port. */
  async close(): Promise<void> {
    await Promise.race([this.writes, delay(1000)]);
    // A tee's branch finishes cancelling only once both are cancelled: both go, each bounded.
    await Promise.race([
      Promise.all([this.improv.close(), this.lineReader.cancel().catch(() => undefined), this.reading]),
      delay(1000),
    ]);
    this.writer.releaseLock();
    await this.port.close().catch(() => undefined);
  }

  private waitForInfo(ms: number): Promise<void> {
    if (this.infoLine || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.onInfo = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async readLines(): Promise<void> {
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for (;;) {
        const { value, done } = await this.lineReader.read();
        if (done) return;
        pending += decoder.decode(value, { stream: true });
        const lines = pending.split('\n');
        pending = lines.pop()!.slice(-4096); // a line without an end is not kept forever
        for (const line of lines) this.takeLine(line.replace(/\r$/, ''));
      }
    } catch {
      // the port closed or was lost: detection sees `lost`
    }
  }

  private takeLine(line: string): void {
    if (line.startsWith('IMPROV')) return; // a frame, the SDK's business
    if (line.length > 0) this.textLines++;
    const at = line.indexOf(INFO_PREFIX);
    if (at < 0) return;
    try {
      const info = JSON.parse(line.slice(at + INFO_PREFIX.length)) as unknown;
      if (info && typeof info === 'object' && !Array.isArray(info)) {
        this.infoLine = info as Record<string, unknown>;
        this.onInfo?.();
      }
    } catch {
      // a garbled info line (noise on the line): the next attempt asks again
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
