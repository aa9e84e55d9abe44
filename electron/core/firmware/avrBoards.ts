// The AVR boards Makerdeck flashes over the Arduino bootloader (STK500v1), and what they expect.

export interface AvrBoard {
  id: string;
  name: string;
  fqbn: string;
  /** Device signature bytes as the bootloader reports them. */
  signature: readonly [number, number, number];
  /** Application flash in bytes (the bootloader's own space excluded). */
  flashSize: number;
  pageSize: number;
  /** Bytes read back per request when verifying: optiboot counts the length in one byte on these chips (256 is its maximum). */
  readChunk: number;
  baudRate: number;
}

const ATMEGA328P = [0x1e, 0x95, 0x0f] as const;

export const AVR_BOARDS: readonly AvrBoard[] = [
  {
    id: 'uno',
    name: 'Arduino Uno',
    fqbn: 'arduino:avr:uno',
    signature: ATMEGA328P,
    flashSize: 32256,
    pageSize: 128,
    readChunk: 256,
    baudRate: 115200,
  },
  {
    id: 'nano',
    name: 'Arduino Nano (ATmega328P)',
    fqbn: 'arduino:avr:nano:cpu=atmega328',
    signature: ATMEGA328P,
    flashSize: 30720,
    pageSize: 128,
    readChunk: 256,
    baudRate: 115200,
  },
  {
    id: 'nano-old',
    name: 'Arduino Nano (old bootloader)',
    fqbn: 'arduino:avr:nano:cpu=atmega328old',
    signature: ATMEGA328P,
    flashSize: 30720,
    pageSize: 128,
    readChunk: 256,
    baudRate: 57600,
  },
];

export function avrBoard(id: string): AvrBoard | undefined {
  return AVR_BOARDS.find((board) => board.id === id);
}

export function formatSignature(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}
