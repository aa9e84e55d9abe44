// The stand-in in-process, behind serialport's mock binding (@serialport/binding-mock): a port
// binding that wraps a mock port and hands the stand-in what the OS would see — the bytes written,
// the baud rate, and every set() exactly as serialport sends it (all five flags, missing ones filled
// with defaults). Unplugging fails the pending read with a non-cancel error, which serialport
// treats as a disconnect, just like a USB adapter vanishing.
import { SerialPort, SerialPortMock } from 'serialport';
import { explainOpenError } from '../../../electron/core/serial/openPort';
import type { PortOpener } from '../../../electron/core/serial/webSerialPort';
import type { EspRomStandIn } from './espRomStandIn';

// The binding-interface types, taken from the mock binding (its own package's types do not resolve here).
type MockPort = Awaited<ReturnType<typeof SerialPortMock.binding.open>>;
type OpenOptions = Parameters<typeof SerialPortMock.binding.open>[0];
type SetOptions = Parameters<MockPort['set']>[0];
type UpdateOptions = Parameters<MockPort['update']>[0];
type PortStatus = Awaited<ReturnType<MockPort['get']>>;

interface StandInBinding {
  list: typeof SerialPortMock.binding.list;
  open(options: OpenOptions): Promise<StandInPortBinding>;
}

export interface MockStandIn {
  path: string;
  openPort: PortOpener;
  listPorts: () => Promise<Array<{ path: string; vendorId?: string; productId?: string }>>;
  /** Plugs the cable back in after an unplug. */
  plugIn(): void;
}

let serial = 0;

/** Creates a mock port wired to `standIn`; USB ids default to a CP2102, as on an ESP32 DevKit. */
export function mockStandIn(standIn: EspRomStandIn, usb = { vendorId: '10c4', productId: 'ea60' }): MockStandIn {
  const path = `/dev/ttyStandIn${serial++}`;
  SerialPortMock.binding.createPort(path, { ...usb, manufacturer: 'ESP stand-in' });
  let current: StandInPortBinding | undefined;
  let plugged = true;
  standIn.attach({
    send: (bytes) => current?.deliver(bytes),
    unplug: () => {
      plugged = false;
      current?.pull();
    },
  });
  standIn.powerOn();
  const binding: StandInBinding = {
    list: () => SerialPortMock.binding.list(),
    open: async (options) => {
      if (!plugged) throw new Error(`Error: No such file or directory, cannot open ${options.path}`);
      current = new StandInPortBinding(await SerialPortMock.binding.open(options), standIn);
      return current;
    },
  };
  return {
    path,
    openPort: (portPath, baudRate) => openWith(binding, portPath, baudRate),
    listPorts: () => SerialPortMock.binding.list(),
    plugIn: () => {
      plugged = true;
      standIn.powerOn();
    },
  };
}

async function openWith(binding: StandInBinding, path: string, baudRate: number): Promise<SerialPort> {
  // SerialPort takes a binding option ahead of its autodetected one; its types just do not say so.
  const port = new SerialPort({ path, baudRate, autoOpen: false, binding } as ConstructorParameters<typeof SerialPort>[0]);
  try {
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  } catch (error) {
    throw await explainOpenError(path, error as Error);
  }
  return port;
}

class StandInPortBinding {
  private pulled: (error: Error) => void = () => undefined;
  private readonly unplugged = new Promise<never>((_, reject) => (this.pulled = reject));
  private gone = false;
  private baud: number;

  constructor(
    private readonly inner: MockPort,
    private readonly standIn: EspRomStandIn,
  ) {
    this.unplugged.catch(() => undefined);
    this.baud = inner.openOptions.baudRate;
    standIn.setHostBaud(this.baud);
    standIn.portOpened();
  }

  get openOptions() {
    return this.inner.openOptions;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  deliver(bytes: Uint8Array): void {
    if (this.inner.isOpen && !this.gone) this.inner.emitData(Buffer.from(bytes));
  }

  pull(): void {
    this.gone = true;
    this.pulled(Object.assign(new Error('device disconnected (stand-in unplugged)'), { disconnected: true }));
  }

  async close(): Promise<void> {
    await this.inner.close();
    if (!this.gone) this.standIn.portClosed();
  }

  read(buffer: Buffer, offset: number, length: number) {
    return Promise.race([this.inner.read(buffer, offset, length), this.unplugged]);
  }

  async write(buffer: Buffer): Promise<void> {
    if (this.gone) throw Object.assign(new Error('device disconnected (stand-in unplugged)'), { disconnected: true });
    await new Promise((resolve) => setImmediate(resolve)); // handed to the OS, later than the call
    this.standIn.receive(new Uint8Array(buffer), this.baud);
  }

  async update(options: UpdateOptions): Promise<void> {
    await this.inner.update(options);
    this.baud = options.baudRate;
    this.standIn.setHostBaud(options.baudRate);
  }

  async set(options: SetOptions): Promise<void> {
    await this.inner.set(options);
    this.standIn.setLines(options.dtr ?? true, options.rts ?? true);
  }

  get(): Promise<PortStatus> {
    return this.inner.get();
  }

  getBaudRate(): Promise<{ baudRate: number }> {
    return this.inner.getBaudRate();
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  drain(): Promise<void> {
    return this.inner.drain();
  }
}
