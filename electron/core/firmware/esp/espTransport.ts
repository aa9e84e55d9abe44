// esptool-js's Transport with a way out: it has no cancel, and it polls its buffer until a timeout
// even after the device is gone. Every read and write here also loses the race against `stop`
// (cancel or unplug), and once halted fails at once without touching the device.
import { Transport, type IEspLoaderTerminal } from 'esptool-js';
import type { WebSerialLike } from '../../serial/webSerialPort';

type TransportDevice = ConstructorParameters<typeof Transport>[0];

export class GuardedTransport extends Transport {
  private halted: unknown;

  constructor(
    device: WebSerialLike,
    private readonly stop: Promise<never>,
    private readonly log: (line: string) => void,
  ) {
    super(device as unknown as TransportDevice, false, true);
    stop.catch((reason: unknown) => this.halt(reason));
  }

  halt(reason: unknown = new Error('transport halted')): void {
    this.halted ??= reason;
  }

  override async read(timeout: number): Promise<Uint8Array> {
    if (this.halted !== undefined) throw this.halted;
    return Promise.race([super.read(timeout), this.stop]);
  }

  override async write(data: Uint8Array): Promise<void> {
    if (this.halted !== undefined) throw this.halted;
    return Promise.race([super.write(data), this.stop]);
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
