// Buffers everything a port sends from the moment it is attached, so a reply that arrives before
// anyone asks for it is never lost (a fast bootloader answers within microseconds).
import type { SerialPort } from 'serialport';
import { MakerdeckError } from '../../contract';

interface Waiter {
  count: number;
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

export class ByteReader {
  private buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly port: SerialPort,
    private readonly portPath: string,
  ) {
    port.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.settle();
    });
    // A stream error (e.g. EIO when the device vanishes) must never go unhandled: it would end the process.
    port.on('error', (error: Error) =>
      this.fail(
        new MakerdeckError(
          'UNAVAILABLE',
          `${portPath} went away (${error.message}): plug the board back in and try again`,
        ),
      ),
    );
    port.on('close', (error?: Error & { disconnected?: boolean }) => {
      this.fail(
        new MakerdeckError(
          'UNAVAILABLE',
          `${portPath} went away${error?.disconnected ? ' (device unplugged)' : ''}: plug the board back in and try again`,
        ),
      );
    });
  }

  /** Drops whatever arrived so far (boot noise, stale replies). */
  discard(): void {
    this.buffer = Buffer.alloc(0);
  }

  /** The next `count` bytes, or a TIMEOUT error after `timeoutMs`. */
  read(count: number, timeoutMs: number, what: string): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new MakerdeckError('TIMEOUT', what));
      }, timeoutMs);
      this.waiter = {
        count,
        resolve: (bytes) => (clearTimeout(timer), resolve(bytes)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.settle();
    });
  }

  /** Makes every pending and future read fail with `error` (cancel, unplug). */
  fail(error: Error): void {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) =>
      this.port.write(Buffer.from(bytes), (error) => {
        if (!error) return resolve();
        // A device that vanishes shows up first as a failed write (EIO) on some systems.
        this.fail(
          this.failure ??
            new MakerdeckError(
              'UNAVAILABLE',
              `${this.portPath} went away (${error.message}): plug the board back in and try again`,
            ),
        );
        reject(this.failure);
      }),
    );
  }

  private settle(): void {
    const waiter = this.waiter;
    if (!waiter || this.buffer.length < waiter.count) return;
    this.waiter = undefined;
    const bytes = Uint8Array.from(this.buffer.subarray(0, waiter.count));
    this.buffer = this.buffer.subarray(waiter.count);
    waiter.resolve(bytes);
  }
}
