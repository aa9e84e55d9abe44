// esptool-js's Transport with a way out: it has no cancel, and it polls its buffer until a timeout
// even after the device is gone. Every read and write here also loses the race against `stop`
// (cancel or unplug). Once halted, every call fails at once without touching the device: esptool-js's
// own retry loops (connect, block writes) keep running for a while after we gave up on them, and
// must not toggle the reset lines or reopen the port meanwhile.
import { Transport, type IEspLoaderTerminal } from 'esptool-js';
import type { WebSerialLike } from '../../serial/webSerialPort';

type TransportDevice = ConstructorParameters<typeof Transport>[0];

export class GuardedTransport extends Transport {
  /** Rejects with the reason given to halt(). */
  readonly stopped: Promise<never>;
  private halted: unknown;
  private rejectStopped: (reason: unknown) => void = () => undefined;

  constructor(
    device: WebSerialLike,
    private readonly log: (line: string) => void,
  ) {
    super(device as unknown as TransportDevice, false, true);
    this.stopped = new Promise<never>((_, reject) => (this.rejectStopped = reject));
    this.stopped.catch(() => undefined);
  }

  /** Synchronous, so that nothing esptool-js does after this point reaches the device. */
  halt(reason: unknown = new Error('transport halted')): void {
    if (this.halted !== undefined) return;
    this.halted = reason;
    this.rejectStopped(reason);
  }

  override async read(timeout: number): Promise<Uint8Array> {
    this.check();
    return Promise.race([super.read(timeout), this.stopped]);
  }

  override async write(data: Uint8Array): Promise<void> {
    this.check();
    return Promise.race([super.write(data), this.stopped]);
  }

  override async setSignals(dtr?: boolean, rts?: boolean, breakSignal?: boolean): Promise<void> {
    this.check();
    return super.setSignals(dtr, rts, breakSignal);
  }

  override async setRTS(state: boolean): Promise<void> {
    this.check();
    return super.setRTS(state);
  }

  override async setDTR(state: boolean): Promise<void> {
    this.check();
    return super.setDTR(state);
  }

  override async connect(baud?: number, serialOptions?: Parameters<Transport['connect']>[1]): Promise<void> {
    this.check();
    return super.connect(baud, serialOptions);
  }

  private check(): void {
    if (this.halted !== undefined) throw this.halted;
  }

  // esptool-js traces to console.log in places even with tracing off.
  override trace(message: string): void {
    this.log(message);
  }
}

export function logTerminal(log: (line: string) => void): IEspLoaderTerminal {
  let partial = '';
  return {
    clean: () => undefined,
    write: (text) => {
      partial += text;
    },
    writeLine: (text) => {
      const line = (partial + text).trim();
      partial = '';
      if (line) log(line);
    },
  };
}
