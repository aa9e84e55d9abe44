// Whether the board on a port can be the lab's board type, judged from its USB id before it takes a
// seat. Only a clear contradiction counts: a bridge chip (CH340, CP210x, FTDI) sits on AVR and ESP
// boards alike, so those always pass and the bootloader decides.
import { flashBoardFor, type FlashBoard } from '../../contract';
import { guessBoard } from '../serial/boards';

/** What a teacher calls each board type. */
const BOARD_NAMES: Record<FlashBoard, string> = {
  uno: 'Arduino Uno',
  nano: 'Arduino Nano',
  'nano-old': 'Arduino Nano (old bootloader)',
  esp32: 'ESP32',
  esp8266: 'ESP8266',
};

/** Arduino's own AVR boards (Uno, Uno R3, Mega, Mega 2560, Leonardo): never an ESP. */
const ARDUINO_AVR_PIDS = new Set(['0001', '0043', '0243', '0010', '0042', '0036', '8036']);

/** The name of a lab's board type ("Arduino Uno"), or its FQBN when Makerdeck cannot flash it. */
export function boardName(fqbn: string): string {
  const board = flashBoardFor(fqbn);
  return board ? BOARD_NAMES[board] : fqbn;
}

/**
 * Why the board on this port is clearly not the lab's board type (one line with the fix), or
 * undefined when it may be.
 */
export function boardFit(
  fqbn: string,
  port: { path: string; vendorId?: string; productId?: string },
): string | undefined {
  const board = flashBoardFor(fqbn);
  const guess = guessBoard(port.vendorId, port.productId);
  if (!board || !guess) return undefined;
  const esp = board === 'esp32' || board === 'esp8266';
  const portIsEsp = port.vendorId === '303a';
  const portIsAvr = guess.adapter === 'Arduino' && ARDUINO_AVR_PIDS.has(port.productId ?? '');
  if ((esp && !portIsAvr) || (!esp && !portIsEsp)) return undefined;
  const usb = `${port.vendorId}:${port.productId}`;
  return (
    `${port.path} is an ${guess.label} (USB ${usb}), not an ${BOARD_NAMES[board]}: ` +
    `this lab flashes ${BOARD_NAMES[board]} boards, so unplug it (or make a lab for its board type)`
  );
}
