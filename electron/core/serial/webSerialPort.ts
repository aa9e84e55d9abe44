// A Web-Serial-shaped device (what navigator.serial hands a page) over node serialport, so libraries
// written for the browser — esptool-js — run in Node. As in Web Serial, `readable` and `writable` are
// null while closed and are created again after a reader cancels or a writer closes.
import type { SerialPort } from 'serialport';
import { normaliseUsbId } from './boards';
import { closePort, openSerialPort, setModemLines } from './openPort';

export type PortOpener = (path: string, baudRate: number) => Promise<SerialPort>;

export interface WebSerialSignals {
  dataTerminalReady?: boolean;
  requestToSend?: boolean;
  break?: boolean;
}

export interface WebSerialInfo {
  usbVendorId?: number;
  usbProductId?: number;
}

/** The part of Web Serial's SerialPort that esptool-js uses, plus in-place baud changes. */
export interface WebSerialLike {
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
  open(options: { baudRate: number }): Promise<void>;
  close(): Promise<void>;
  setSignals(signals: WebSerialSignals): Promise<void>;
  getInfo(): WebSerialInfo;
  setBaudRate(baudRate: number): Promise<void>;
}

export interface WebSerialPortOptions {
  /** Opens the node port; openSerialPort (explained errors) unless a test passes another binding. */
  open?: PortOpener;
  /** USB ids as serialport lists them (hex strings); getInfo() reports them when known. */
  vendorId?: string;
  productId?: string;
}

const lostError = () => new DOMException('The device has been lost.', 'NetworkError');
const notOpen = () => new DOMException('The port is closed.', 'InvalidStateError');

export class WebSerialPort implements WebSerialLike {
  /** False when the port refused the last DTR/RTS change (a pty answers ENOTTY): resets by signal do nothing there. */
  modemLines: boolean | undefined;
  /** Resolves when serialport closed the port without being asked to (unplugged); never rejects. */
  readonly lost: Promise<Error>;

  private port: SerialPort | undefined;
  private opening: Promise<void> | undefined;
  private closing = false;
  private lostReason: Error | undefined;
  private markLost: (reason: Error) => void = () => undefined;
  private readStream: ReadableStream<Uint8Array> | null = null;
  private readController: ReadableStreamDefaultController<Uint8Array> | undefined;
  private writeStream: WritableStream<Uint8Array> | null = null;
  /** Bytes that arrived while no stream was open, handed to the next one. */
  private pending: Uint8Array[] = [];
  // Linux raises both lines when a port opens; tracked so that setting one line re-sends the other as is.
  private lines = { dtr: true, rts: true };
  private closeDone?: Promise<void>;

  constructor(
    readonly path: string,
    private readonly options: WebSerialPortOptions = {},
  ) {
    this.lost = new Promise((resolve) => (this.markLost = resolve));
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true && !this.closing;
  }

  get isLost(): boolean {
    return this.lostReason !== undefined;
  }

  get readable(): ReadableStream<Uint8Array> | null {
    if (!this.isOpen) return null;
    this.readStream ??= this.createReadable();
    return this.readStream;
  }

  get writable(): WritableStream<Uint8Array> | null {
    if (!this.isOpen) return null;
    this.writeStream ??= this.createWritable();
    return this.writeStream;
  }

  open({ baudRate }: { baudRate: number }): Promise<void> {
    if (this.port || this.opening)
      return Promise.reject(new DOMException('The port is already open.', 'InvalidStateError'));
    const opening = this.attach(baudRate).finally(() => (this.opening = undefined));
    this.opening = opening;
    return opening;
  }

  /**
   * Closes the port. A close while another is under way waits for that one: returning early would
   * let the caller open the port again while the fd (and its lock) is still held ("busy").
   */
  close(): Promise<void> {
    this.closeDone ??= this.closeNow().finally(() => (this.closeDone = undefined));
    return this.closeDone;
  }

  private async closeNow(): Promise<void> {
    await this.opening?.catch(() => undefined); // a close during open closes what the open brings
    const port = this.port;
    if (!port) return;
    this.closing = true;
    try {
      await closePort(port);
    } finally {
      this.onClosed(port, undefined);
    }
  }

  async setSignals(signals: WebSerialSignals): Promise<void> {
    const port = this.requireOpen();
    if (signals.dataTerminalReady !== undefined) this.lines.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.lines.rts = signals.requestToSend;
    this.modemLines = await setModemLines(port, { ...this.lines });
  }

  getInfo(): WebSerialInfo {
    const vid = normaliseUsbId(this.options.vendorId);
    const pid = normaliseUsbId(this.options.productId);
    return {
      ...(vid ? { usbVendorId: parseInt(vid, 16) } : {}),
      ...(pid ? { usbProductId: parseInt(pid, 16) } : {}),
    };
  }

  setBaudRate(baudRate: number): Promise<void> {
    const port = this.requireOpen();
    return new Promise((resolve, reject) => port.update({ baudRate }, (error) => (error ? reject(error) : resolve())));
  }

  private async attach(baudRate: number): Promise<void> {
    const port = await (this.options.open ?? openSerialPort)(this.path, baudRate);
    this.port = port;
    this.lines = { dtr: true, rts: true };
    port.on('data', (chunk: Buffer) => this.deliver(new Uint8Array(chunk)));
    port.on('error', () => undefined); // failures surface through writes and the close event
    port.once('close', (error?: Error | null) => this.onClosed(port, error ?? undefined));
  }

  private requireOpen(): SerialPort {
    if (!this.port || !this.isOpen) throw this.lostReason ? lostError() : notOpen();
    return this.port;
  }

  private onClosed(port: SerialPort, error: Error | undefined): void {
    if (this.port !== port) return;
    const unexpected = !this.closing;
    this.port = undefined;
    this.closing = false;
    this.pending = [];
    this.finishReadable(unexpected);
    this.writeStream = null;
    if (unexpected && !this.lostReason) {
      this.lostReason = error ?? new Error('the port closed unexpectedly');
      this.markLost(this.lostReason);
    }
  }

  private finishReadable(lost: boolean): void {
    const controller = this.readController;
    this.readController = undefined;
    this.readStream = null;
    try {
      if (lost) controller?.error(lostError());
      else controller?.close();
    } catch {
      // already closed or cancelled by its reader
    }
  }

  private deliver(bytes: Uint8Array): void {
    if (this.readController) this.readController.enqueue(bytes);
    else this.pending.push(bytes);
  }

  private createReadable(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.readController = controller;
        for (const bytes of this.pending.splice(0)) controller.enqueue(bytes);
      },
      cancel: () => {
        this.readController = undefined;
        this.readStream = null;
      },
    });
  }

  private createWritable(): WritableStream<Uint8Array> {
    const forget = () => {
      this.writeStream = null;
    };
    return new WritableStream<Uint8Array>({ write: (chunk) => this.writeChunk(chunk), close: forget, abort: forget });
  }

  /** Resolves once the bytes left the OS buffer; rejects (never hangs) when the port closes meanwhile. */
  private writeChunk(chunk: Uint8Array): Promise<void> {
    const port = this.requireOpen();
    return new Promise((resolve, reject) => {
      const onClose = () => reject(lostError());
      port.once('close', onClose);
      const settle = (error: Error | null | undefined) => {
        port.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      port.write(Buffer.from(chunk), (error) => {
        if (error) settle(error);
        else port.drain(settle);
      });
    });
  }
}
