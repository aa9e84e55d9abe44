// Where a firmware file goes in an ESP's flash, and whether a set of parts can be flashed at all.
import { MakerdeckError } from '../../../contract';

export type EspChip = 'esp32' | 'esp8266';

export interface EspImagePart {
  address: number;
  data: Uint8Array;
}

export const IMAGE_MAGIC = 0xe9;
const APP_DESC_MAGIC = 0xabcd5432; // esp_app_desc_t, first word of an ESP-IDF/Arduino-ESP32 app's first segment
const APP_DESC_OFFSET = 32; // 8-byte header + 16-byte extended header + 8-byte segment header
const SECTOR = 0x1000;
export const ESP32_APP_ADDRESS = 0x10000;
const ESP32_BOOTLOADER_ADDRESS = 0x1000;

const IMAGE_CHIP_NAMES: Record<number, string> = {
  0: 'ESP32',
  2: 'ESP32-S2',
  5: 'ESP32-C3',
  9: 'ESP32-S3',
  12: 'ESP32-C2',
  13: 'ESP32-C6',
  16: 'ESP32-H2',
  18: 'ESP32-P4',
  20: 'ESP32-C61',
  23: 'ESP32-C5',
};

/**
 * The flash address of a single .bin as the Arduino IDE or PlatformIO export it.
 * ESP8266: the one image holds everything and goes at 0x0.
 * ESP32: a merged image (bootloader at 0x1000, so its first sector is erased flash, 0xFF) goes at 0x0;
 * an app image (0xE9 magic plus an app description) goes at 0x10000 and keeps the board's bootloader
 * and partition table. A bare bootloader or anything else is refused rather than guessed: flashed at
 * the wrong address it leaves a board that does not boot.
 */
export function espImageFromFile(bytes: Uint8Array, chip: EspChip): EspImagePart {
  if (bytes.length === 0)
    throw new MakerdeckError('BAD_INPUT', 'The firmware file is empty: export the compiled binary again');
  return chip === 'esp8266' ? esp8266Image(bytes) : esp32Image(bytes);
}

function esp8266Image(bytes: Uint8Array): EspImagePart {
  if (bytes[0] !== IMAGE_MAGIC) throw notAnImage('ESP8266', bytes);
  if (hasAppDescription(bytes)) {
    throw new MakerdeckError(
      'BAD_INPUT',
      `This .bin was built for an ${imageChipName(bytes)}, not an ESP8266: pick the matching board and build again`,
    );
  }
  return { address: 0, data: bytes };
}

function esp32Image(bytes: Uint8Array): EspImagePart {
  if (isMergedEsp32Image(bytes)) return { address: 0, data: bytes };
  if (bytes[0] !== IMAGE_MAGIC) throw notAnImage('ESP32', bytes);
  const builtFor = imageChipName(bytes);
  if (builtFor !== 'ESP32')
    throw new MakerdeckError(
      'BAD_INPUT',
      `This .bin was built for an ${builtFor}, not an ESP32: pick the matching board and build again`,
    );
  if (!hasAppDescription(bytes)) {
    throw new MakerdeckError(
      'BAD_INPUT',
      'This .bin looks like an ESP32 bootloader, not an app: flash the app .bin, or export a merged image that starts at 0x0',
    );
  }
  return { address: ESP32_APP_ADDRESS, data: bytes };
}

function isMergedEsp32Image(bytes: Uint8Array): boolean {
  if (bytes.length <= ESP32_BOOTLOADER_ADDRESS || bytes[ESP32_BOOTLOADER_ADDRESS] !== IMAGE_MAGIC) return false;
  return bytes.subarray(0, ESP32_BOOTLOADER_ADDRESS).every((byte) => byte === 0xff);
}

function hasAppDescription(bytes: Uint8Array): boolean {
  return bytes.length >= APP_DESC_OFFSET + 4 && readU32(bytes, APP_DESC_OFFSET) === APP_DESC_MAGIC;
}

function imageChipName(bytes: Uint8Array): string {
  const id = (bytes[12] ?? 0) | ((bytes[13] ?? 0) << 8);
  return IMAGE_CHIP_NAMES[id] ?? `unknown ESP chip (image chip id ${id})`;
}

function notAnImage(chip: string, bytes: Uint8Array): MakerdeckError {
  const first = (bytes[0] ?? 0).toString(16).padStart(2, '0');
  return new MakerdeckError(
    'BAD_INPUT',
    `This file is not an ${chip} firmware image (it starts with 0x${first}, not 0xe9): export the compiled binary (.bin) again`,
  );
}

function readU32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true);
}

/** Parts sorted by address; each non-empty, sector aligned and not overlapping the next. */
export function checkParts(parts: EspImagePart[]): EspImagePart[] {
  if (parts.length === 0) throw new MakerdeckError('BAD_INPUT', 'Nothing to flash: give at least one image part');
  const sorted = [...parts].sort((a, b) => a.address - b.address);
  sorted.forEach((part, index) => {
    const where = `0x${part.address.toString(16)}`;
    if (!Number.isInteger(part.address) || part.address < 0 || part.address % SECTOR !== 0) {
      throw new MakerdeckError(
        'BAD_INPUT',
        `Image part at ${where} is not on a 4 KB flash sector boundary: use an address that is a multiple of 0x1000`,
      );
    }
    if (part.data.length === 0)
      throw new MakerdeckError('BAD_INPUT', `Image part at ${where} is empty: export the binary again`);
    const next = sorted[index + 1];
    if (next && part.address + part.data.length > next.address) {
      throw new MakerdeckError(
        'BAD_INPUT',
        `Image parts at ${where} and 0x${next.address.toString(16)} overlap: check the addresses`,
      );
    }
  });
  return sorted;
}

/** Fails when the image does not fit the flash chip the board reported. */
export function checkFits(parts: EspImagePart[], flashBytes: number | undefined, port: string): void {
  if (flashBytes === undefined) return;
  const last = parts[parts.length - 1];
  if (!last) return;
  const end = last.address + last.data.length;
  if (end > flashBytes) {
    throw new MakerdeckError(
      'BAD_INPUT',
      `The image ends at 0x${end.toString(16)} but the flash on ${port} holds ${flashBytes / 1024 / 1024} MB: pick a smaller partition scheme or a board with more flash`,
    );
  }
}
