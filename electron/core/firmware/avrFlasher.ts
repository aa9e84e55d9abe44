// Flashing an AVR board over its serial bootloader: reset, sync, check the chip, write, verify.
import { setTimeout as sleep } from 'node:timers/promises';
import { MakerdeckError } from '../../contract';
import { ByteReader } from '../serial/byteReader';
import { closePort, openSerialPort, setModemLines } from '../serial/openPort';
import type { AvrBoard } from './avrBoards';
import type { FlashImage } from './intelHex';
import { Stk500, type Stk500Progress } from './stk500';

export interface AvrFlashOptions {
  port: string;
  board: AvrBoard;
  image: FlashImage;
  signal?: AbortSignal;
  onProgress?: (progress: Stk500Progress) => void;
}

export interface AvrFlashResult {
  bytes: number;
  ms: number;
}

/**
 * Short, frequent sync attempts (40 × 60 ms ≈ 2.4 s): the bootloader answers as soon as it is up
 * (optiboot blinks for ~0.4 s first), and the window still covers a late reset.
 */
const SYNC_ATTEMPTS = 40;
const SYNC_WAIT_MS = 60;

export async function flashAvr(options: AvrFlashOptions): Promise<AvrFlashResult> {
  const { board, image, signal } = options;
  if (image.data.length > board.flashSize) {
    throw new MakerdeckError(
      'BAD_INPUT',
      `The program needs ${image.data.length} bytes but the ${board.name} has ${board.flashSize}: make it smaller`,
    );
  }
  const started = Date.now();
  signal?.throwIfAborted();
  const port = await openSerialPort(options.port, board.baudRate);
  const io = new ByteReader(port, options.port);
  const onAbort = () =>
    io.fail(
      new MakerdeckError('CANCELLED', 'Flashing was cancelled: the bootloader is intact, flash again to run a program'),
    );
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await resetIntoBootloader(port);
    const stk = new Stk500(io, options.port);
    await stk.sync(SYNC_ATTEMPTS, SYNC_WAIT_MS);
    await stk.checkSignature(board);
    await stk.enterProgramming();
    const progress = options.onProgress ?? (() => {});
    await stk.writeFlash(image.data, board.pageSize, progress, signal);
    await stk.verifyFlash(image.data, board.readChunk, progress, signal);
    await stk.leaveProgramming();
    return { bytes: image.data.length, ms: Date.now() - started };
  } catch (error) {
    if (signal?.aborted)
      throw new MakerdeckError(
        'CANCELLED',
        'Flashing was cancelled: the bootloader is intact, flash again to run a program',
      );
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await closePort(port);
  }
}

/**
 * Pulses DTR/RTS like the Arduino IDE: the board's reset capacitor turns the rising edge into a
 * reset pulse (its RC is about 1 ms, so 50 ms low is plenty); sync retries cover the boot time.
 * A port without modem lines (a pty) just skips it.
 */
async function resetIntoBootloader(port: Awaited<ReturnType<typeof openSerialPort>>): Promise<void> {
  if (!(await setModemLines(port, { dtr: false, rts: false }))) return;
  await sleep(50);
  await setModemLines(port, { dtr: true, rts: true });
}
