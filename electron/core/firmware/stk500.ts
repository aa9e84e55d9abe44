// STK500v1, the subset the Arduino bootloaders (optiboot) speak: sync, read the signature, write
// pages, read them back to verify. Small on purpose; every step has a timeout and a clear error.
import { setTimeout as sleep } from 'node:timers/promises';
import { MakerdeckError } from '../../contract';
import type { ByteReader } from '../serial/byteReader';
import { formatSignature, type AvrBoard } from './avrBoards';

const STK = {
  OK: 0x10,
  INSYNC: 0x14,
  NOSYNC: 0x15,
  CRC_EOP: 0x20,
  GET_SYNC: 0x30,
  ENTER_PROGMODE: 0x50,
  LEAVE_PROGMODE: 0x51,
  LOAD_ADDRESS: 0x55,
  PROG_PAGE: 0x64,
  READ_PAGE: 0x74,
  READ_SIGN: 0x75,
} as const;

const REPLY_TIMEOUT_MS = 1000;
/** Long enough for replies to earlier sync attempts to arrive and be dropped. */
const SETTLE_MS = 30;

export interface Stk500Progress {
  phase: 'write' | 'verify';
  bytesDone: number;
  bytesTotal: number;
}

export class Stk500 {
  constructor(
    private readonly io: ByteReader,
    private readonly portPath: string,
  ) {}

  /**
   * Sends GET_SYNC until the bootloader answers (it listens for about a second after reset).
   * Earlier attempts may be answered late, so once one succeeds the line is drained and synced
   * once more: the next command then reads its own reply, not a stale one.
   */
  async sync(attempts: number, waitMs = 200): Promise<void> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (await this.trySync(waitMs)) {
        await sleep(SETTLE_MS);
        if (await this.trySync(waitMs)) return;
      }
    }
    throw new MakerdeckError(
      'UNAVAILABLE',
      `No bootloader answered on ${this.portPath}: check the port and the board type (an old Nano needs "nano-old"), or press reset just before flashing`,
    );
  }

  private async trySync(waitMs: number): Promise<boolean> {
    this.io.discard();
    await this.io.write(Uint8Array.of(STK.GET_SYNC, STK.CRC_EOP));
    try {
      const reply = await this.io.read(2, waitMs, 'sync');
      return reply[0] === STK.INSYNC && reply[1] === STK.OK;
    } catch (error) {
      if (error instanceof MakerdeckError && error.code === 'TIMEOUT') return false;
      throw error;
    }
  }

  async checkSignature(board: AvrBoard): Promise<void> {
    const signature = await this.command([STK.READ_SIGN], 3, 'reading the device signature');
    if (!board.signature.every((byte, i) => signature[i] === byte)) {
      throw new MakerdeckError(
        'BAD_INPUT',
        `The device signature ${formatSignature(signature)} is not the ${board.name}'s (${formatSignature(board.signature)}): pick the right board`,
      );
    }
  }

  async enterProgramming(): Promise<void> {
    await this.command([STK.ENTER_PROGMODE], 0, 'entering programming mode');
  }

  async leaveProgramming(): Promise<void> {
    await this.command([STK.LEAVE_PROGMODE], 0, 'leaving programming mode');
  }

  /**
   * Writes page by page. The address and the page go out in one write: the bootloader answers the
   * short LOAD_ADDRESS before the page's bytes can overrun its receiver, and a round trip per page
   * is saved.
   */
  async writeFlash(
    data: Uint8Array,
    pageSize: number,
    progress: (p: Stk500Progress) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let address = 0; address < data.length; address += pageSize) {
      signal?.throwIfAborted();
      const page = data.subarray(address, Math.min(address + pageSize, data.length));
      const what = `writing flash at 0x${hex(address)}`;
      await this.io.write(
        Uint8Array.from([
          ...loadAddress(address),
          ...[STK.PROG_PAGE, page.length >> 8, page.length & 0xff, 0x46, ...page, STK.CRC_EOP],
        ]),
      );
      await this.reply(0, what);
      await this.reply(0, what);
      progress({ phase: 'write', bytesDone: address + page.length, bytesTotal: data.length });
    }
  }

  async verifyFlash(
    data: Uint8Array,
    chunkSize: number,
    progress: (p: Stk500Progress) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let address = 0; address < data.length; address += chunkSize) {
      signal?.throwIfAborted();
      const length = Math.min(chunkSize, data.length - address);
      const what = `reading flash back at 0x${hex(address)}`;
      await this.io.write(
        Uint8Array.from([...loadAddress(address), STK.READ_PAGE, length >> 8, length & 0xff, 0x46, STK.CRC_EOP]),
      );
      await this.reply(0, what);
      const read = await this.reply(length, what);
      const mismatch = read.findIndex((byte, i) => byte !== data[address + i]);
      if (mismatch >= 0) {
        throw new MakerdeckError(
          'UNAVAILABLE',
          `Verify failed at 0x${hex(address + mismatch)}: the flash does not hold what was written — flash again; if it keeps failing the board's flash may be worn`,
        );
      }
      progress({ phase: 'verify', bytesDone: address + length, bytesTotal: data.length });
    }
  }

  /** One command: the bytes plus CRC_EOP, then its reply. */
  private async command(bytes: number[], replyLength: number, what: string): Promise<Uint8Array> {
    await this.io.write(Uint8Array.from([...bytes, STK.CRC_EOP]));
    return this.reply(replyLength, what);
  }

  /** A reply: INSYNC, `length` bytes, OK. */
  private async reply(length: number, what: string): Promise<Uint8Array> {
    const stalled = `The bootloader stopped answering while ${what}: was the board reset or unplugged? Flash again`;
    const insync = await this.io.read(1, REPLY_TIMEOUT_MS, stalled);
    if (insync[0] !== STK.INSYNC)
      throw new MakerdeckError(
        'UNAVAILABLE',
        `The bootloader lost sync while ${what} (got 0x${hex(insync[0]!)}): flash again`,
      );
    const data = length > 0 ? await this.io.read(length, REPLY_TIMEOUT_MS, stalled) : new Uint8Array(0);
    const ok = await this.io.read(1, REPLY_TIMEOUT_MS, stalled);
    if (ok[0] !== STK.OK)
      throw new MakerdeckError('UNAVAILABLE', `The bootloader refused ${what} (0x${hex(ok[0]!)}): flash again`);
    return data;
  }
}

/** LOAD_ADDRESS takes a word address, low byte first. */
function loadAddress(byteAddress: number): number[] {
  const word = byteAddress >> 1;
  return [STK.LOAD_ADDRESS, word & 0xff, word >> 8, STK.CRC_EOP];
}

const hex = (value: number) => value.toString(16).padStart(2, '0');
