// Turning esptool-js failures into one line a maker can act on. esptool-js reports every timeout as
// the same "Serial data stream stopped" and every refused command as a status pair, so the step the
// flasher was in (and where in the image) is what makes the message useful.
import { UnexpectedChipMagicError, UnsupportedCommandError } from 'esptool-js';
import { MakerdeckError } from '../../../contract';

export type EspStep = 'open' | 'connect' | 'identify' | 'stub' | 'baud' | 'flash-id' | 'write' | 'verify' | 'reset';

export interface EspWhere {
  port: string;
  step: EspStep;
  baud: number;
  /** Flash address being written, when writing. */
  address?: number;
  percent?: number;
}

const STEP_TEXT: Record<EspStep, string> = {
  open: 'opening the port',
  connect: 'connecting',
  identify: 'reading the chip',
  stub: 'starting the flasher stub',
  baud: 'changing speed',
  'flash-id': 'reading the flash chip ID',
  write: 'the write',
  verify: 'the verify',
  reset: 'the reset',
};

// Status codes of the ROM loader (0x05–0x0b) and of the flasher stub (0xc0–0xff), from Espressif's protocol docs.
const REFUSED = new Set([0x05, 0xc3, 0xff]);

/** A speed the link could not carry: the flasher retries at the next lower one. */
export class SpeedFailed extends Error {
  constructor(readonly baud: number) {
    super(`no answer at ${baud} baud`);
  }
}

/** The flasher stub never said hello (or could not be uploaded): the flasher goes on with the ROM's own loader. */
export class StubFailed extends Error {
  constructor(readonly reason: string) {
    super(`the flasher stub did not start: ${reason}`);
  }
}

/** What the log and the progress say when the stub did not start. */
export const STUB_FALLBACK_TEXT = "flasher stub did not start; flashing with the ROM's loader (slower)";

export const where = (at: EspWhere): string => {
  const place =
    at.address === undefined
      ? ''
      : ` at 0x${at.address.toString(16)}${at.percent === undefined ? '' : ` (${at.percent}%)`}`;
  return `${STEP_TEXT[at.step]}${place}`;
};

export const cancelled = (): MakerdeckError =>
  new MakerdeckError(
    'CANCELLED',
    'Flashing was cancelled: flash again before relying on the board, it may not boot now',
  );

export const unplugged = (at: EspWhere): MakerdeckError =>
  new MakerdeckError(
    'UNAVAILABLE',
    `${at.port} was unplugged during ${where(at)}: plug the board back in and flash again`,
  );

export const noBootloader = (port: string): MakerdeckError =>
  new MakerdeckError(
    'UNAVAILABLE',
    `No ESP bootloader answered on ${port}: hold BOOT while pressing EN/RESET, check the port and the USB cable, then try again`,
  );

/** No bootloader answered after the stub had failed: the chip still runs the broken stub until it is reset. */
export const noBootloaderAfterStub = (port: string): MakerdeckError =>
  new MakerdeckError(
    'UNAVAILABLE',
    `The flasher stub did not start on ${port}, and the ROM loader did not answer after it: hold BOOT while pressing EN/RESET, then flash again with the ROM loader only (--no-stub)`,
  );

export function explainEspError(error: unknown, at: EspWhere): MakerdeckError {
  if (error instanceof MakerdeckError) return error;
  if (error instanceof SpeedFailed) {
    return new MakerdeckError(
      'UNAVAILABLE',
      `The ESP on ${at.port} stopped answering after switching to ${error.baud} baud: flash at 115200 or use a shorter USB cable`,
    );
  }
  const message = error instanceof Error ? error.message.split('\n')[0]!.trim() : String(error);
  if (at.step === 'connect' && /Failed to connect/i.test(message)) return noBootloader(at.port);
  if (error instanceof UnexpectedChipMagicError) {
    return new MakerdeckError(
      'BAD_INPUT',
      `The chip on ${at.port} is neither an ESP32 nor an ESP8266 (${message.replace(/\. Failed.*$/, '')}): pick the right port and board`,
    );
  }
  if (/write to target Flash after seq \d+ failed with status 1,(5|7)\b/.test(message)) {
    return new MakerdeckError(
      'UNAVAILABLE',
      `The ESP's ROM loader on ${at.port} kept refusing garbled blocks during ${where(at)}: use a shorter USB cable or another port, then flash again`,
    );
  }
  if (isRefused(error)) {
    return new MakerdeckError(
      'UNAVAILABLE',
      `The ESP bootloader on ${at.port} refused a command during ${where(at)} as unsupported: the chip may be in secure download mode or not a plain ESP32/ESP8266 — check the board type`,
    );
  }
  if (/MD5 of file does not match/i.test(message)) {
    return new MakerdeckError(
      'UNAVAILABLE',
      `Verify failed on ${at.port}${at.address === undefined ? '' : ` for the part at 0x${at.address.toString(16)}`}: the flash holds other bytes than were sent — flash again, and if it repeats the flash chip may be worn`,
    );
  }
  if (/Failed to start stub/i.test(message)) {
    return new MakerdeckError(
      'UNAVAILABLE',
      `The flasher stub did not start on ${at.port}: reset the board into download mode (hold BOOT, press EN/RESET) and try again`,
    );
  }
  if (
    /Serial data stream stopped|No serial data received|Invalid head of packet|Invalid SLIP escape|invalid response/i.test(
      message,
    )
  ) {
    return new MakerdeckError(
      'TIMEOUT',
      `The ESP on ${at.port} stopped answering during ${where(at)} at ${at.baud} baud: check the USB cable and the board's power, then flash again`,
    );
  }
  return new MakerdeckError(
    'UNAVAILABLE',
    `Flashing ${at.port} failed during ${where(at)} (${message}): try again, and if it repeats flash at 115200 with a shorter USB cable`,
  );
}

/** The loader answered "unsupported" (the ROM's invalid-message reply, or the stub's not-implemented status). */
export function isRefused(error: unknown): boolean {
  if (error instanceof UnsupportedCommandError) return true;
  const status = error instanceof Error ? /failed with status (\d+),(\d+)/.exec(error.message) : null;
  return status !== null && REFUSED.has(Number(status[2]));
}

/** Garbled bytes (rather than silence) right after a speed change mean the link cannot carry that speed. */
export function looksGarbled(error: unknown): boolean {
  return error instanceof Error && /Invalid head of packet|Invalid SLIP escape/i.test(error.message);
}
