// What the ESP32 / ESP8266 stand-in answers to register reads: the chip-detect magic, eFuse words
// (MAC, package, revision) and the SPI peripheral's registers, at the addresses esptool documents.
export type StandInChip = 'esp32' | 'esp8266';

export interface ChipModel {
  name: string;
  magic: number;
  /** Value of a SYNC reply from the ROM (the stub answers 0). */
  syncValue: number;
  /** Status bytes after a ROM reply (the stub always sends 2). */
  romStatusBytes: number;
  spiBase: number;
  spiW0: number;
  /** ROM personality: opcodes beyond the common set (SYNC, READ/WRITE_REG, MEM_*, FLASH_*). */
  romExtras: number[];
  /** Baud the ROM prints its boot text at (the ESP8266's 26 MHz crystal makes that 74880). */
  bootTextBaud: number;
  registers(mac: number[]): Map<number, number>;
}

const CHIP_DETECT_REG = 0x40001000;

export const OP = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

export const OP_NAMES = new Map<number, string>(Object.entries(OP).map(([name, op]) => [op, name]));

export const CHIPS: Record<StandInChip, ChipModel> = {
  esp32: {
    name: 'ESP32',
    magic: 0x00f01d83,
    syncValue: 0x55552007,
    romStatusBytes: 4,
    spiBase: 0x3ff42000,
    spiW0: 0x80,
    romExtras: [OP.SPI_SET_PARAMS, OP.SPI_ATTACH, OP.CHANGE_BAUDRATE, OP.FLASH_DEFL_BEGIN, OP.FLASH_DEFL_DATA, OP.FLASH_DEFL_END, OP.SPI_FLASH_MD5],
    bootTextBaud: 115200,
    registers: (mac) =>
      new Map([
        [CHIP_DETECT_REG, 0x00f01d83],
        // eFuse block 0: words 1–2 hold the MAC, word 3 package 1 (D0WD) + rev bit, word 5 rev bit: an ESP32-D0WD-V3
        [0x3ff5a004, word(mac[2], mac[3], mac[4], mac[5])],
        [0x3ff5a008, ((mac[0] ?? 0) << 8) | (mac[1] ?? 0)],
        [0x3ff5a00c, (1 << 15) | (1 << 9)],
        [0x3ff5a014, 1 << 20],
        [0x3ff6607c, 0x80000000], // APB_CTRL_DATE: third revision bit
        [0x3ff40014, 347], // UART_CLKDIV: 40 MHz / 115200
      ]),
  },
  esp8266: {
    name: 'ESP8266',
    magic: 0xfff0c101,
    syncValue: 0x20120707,
    romStatusBytes: 2,
    spiBase: 0x60000200,
    spiW0: 0x40,
    romExtras: [],
    bootTextBaud: 74880,
    registers: (mac) =>
      new Map([
        [CHIP_DETECT_REG, 0xfff0c101],
        // OTP MAC words as esptool reads them: mac0 top byte, mac1 low 16 bits, mac3 the OUI
        [0x3ff00050, (mac[5] ?? 0) << 24],
        [0x3ff00054, ((mac[3] ?? 0) << 8) | (mac[4] ?? 0)],
        [0x3ff0005c, ((mac[0] ?? 0) << 16) | ((mac[1] ?? 0) << 8) | (mac[2] ?? 0)],
        [0x60000014, 0x1c5], // UART_CLKDIV: 52 MHz / 115200
      ]),
  },
};

function word(b3 = 0, b2 = 0, b1 = 0, b0 = 0): number {
  return ((b3 << 24) | (b2 << 16) | (b1 << 8) | b0) >>> 0;
}

/** JEDEC ID in SPI W0 order: manufacturer (Winbond 0xEF), memory type, capacity code log2(bytes). */
export function jedecId(flashBytes: number): number {
  return 0xef | (0x40 << 8) | (Math.log2(flashBytes) << 16);
}

export function parseMac(text: string): number[] {
  const bytes = text.split(':').map((part) => parseInt(part, 16));
  if (bytes.length !== 6 || bytes.some((byte) => !(byte >= 0 && byte <= 255))) throw new Error(`bad MAC ${text}`);
  return bytes;
}
