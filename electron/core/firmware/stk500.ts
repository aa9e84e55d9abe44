// STK500v1, the subset the Arduino bootloaders (optiboot) speak: sync, read the signature, write
// pages, read them back to verify. Small on purpose; every step has a timeout and a clear error.
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

/** A slow link (Bluetooth serial, a busy hub) answers hundreds of milliseconds late: wait that long. */
const REPLY_TIMEOUT_MS = 2500;
/** At least this much silence ends the drain after a sync (see sync). */
const SETTLE_MS = 30;
/** Late GET_SYNC answers skipped before a signature reply; more means the line is not the bootloader's. */
const MAX_STALE_SYNCS = 64;

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
   * Sends GET_SYNC until the bootloader answers (it listens for about a second after reset). On a
   * slow link the answers to earlier attempts are still on their way: once one arrives, the line is
   * drained until it stays quiet for longer than the gap between attempts (so every outstanding
   * answer has come and gone), then one more GET_SYNC is answered within the long reply timeout.
   */
  async sync(attempts: number, waitMs = 200): Promise<void> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (await this.trySync(waitMs)) {
        await this.drain(Math.max(SETTLE_MS, 2 * waitMs));
        if (await this.trySync(REPLY_TIMEOUT_MS)) return;
      }
    }
    throw new MakerdeckError(
      'UNAVAILABLE',
      `No bootloader answered on ${this.portPath}: check the port and the board type (an old Nano needs "nano-old"), or press reset just before flashing`,
    );
  }

  /** Drops bytes until none arrives for `quietMs`. */
  private async drain(quietMs: number): Promise<void> {
    for (;;) {
      this.io.discard();
      try {
        await this.io.read(1, quietMs, 'drain');
      } catch (error) {
        if (error instanceof MakerdeckError && error.code === 'TIMEOUT') return;
        throw error;
      }
    }
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

  /**
   * Reads the signature, matching the reply to the command: a late answer to a GET_SYNC (INSYNC OK)
   * still in the line is skipped, as a signature reply goes on with the chip's 0x1e, never with OK.
   */
  async checkSignature(board: AvrBoard): Promise<void> {
    const what = 'reading the device signature';
    await this.io.write(Uint8Array.of(STK.READ_SIGN, STK.CRC_EOP));
    let head = await this.readReply(2, what);
    for (let stale = 0; head[0] === STK.INSYNC && head[1] === STK.OK && stale < MAX_STALE_SYNCS; stale++)
      head = await this.readReply(2, what);
    if (head[0] !== STK.INSYNC) throw this.lostSync(what, head[0]!);
    const rest = await this.readReply(3, what);
    if (rest[2] !== STK.OK) throw this.refused(what, rest[2]!);
    const signature = [head[1]!, rest[0]!, rest[1]!];
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
    const insync = await this.readReply(1, what);
    if (insync[0] !== STK.INSYNC) throw this.lostSync(what, insync[0]!);
    const data = length > 0 ? await this.readReply(length, what) : new Uint8Array(0);
    const ok = await this.readReply(1, what);
    if (ok[0] !== STK.OK) throw this.refused(what, ok[0]!);
    return data;
  }

  private readReply(length: number, what: string): Promise<Uint8Array> {
    const stalled = `The bootloader stopped answering while ${what}: was the board reset or unplugged? Flash again`;
    return this.io.read(length, REPLY_TIMEOUT_MS, stalled);
  }

  private lostSync(what: string, got: number): MakerdeckError {
    return new MakerdeckError('UNAVAILABLE', `The bootloader lost sync while ${what} (got 0x${hex(got)}): flash again`);
  }

  private refused(what: string, got: number): MakerdeckError {
    return new MakerdeckError('UNAVAILABLE', `The bootloader refused ${what} (0x${hex(got)}): flash again`);
  }
}

/** LOAD_ADDRESS takes a word address, low byte first. */
function loadAddress(byteAddress: number): number[] {
  const word = byteAddress >> 1;
  return [STK.LOAD_ADDRESS, word & 0xff, word >> 8, STK.CRC_EOP];
}

const hex = (value: number) => value.toString(16).padStart(2, '0');
