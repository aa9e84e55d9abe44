// Releasing an ESP build: the config block is written into the app image in memory, then the image's
// checksum (XOR of every segment byte, seeded 0xEF, in the last byte of the 16-byte-aligned tail) and,
// on ESP32 when the header asks for it, the appended SHA-256 are recomputed, so the ROM and the
// second-stage bootloader accept the image. Works on an app image, on an ESP32 merged image (app at
// 0x10000) and on an ESP8266 image (eboot first, the app after it; v1 format: checksum, no hash).
import { createHash } from 'node:crypto';
import { MakerdeckError } from '../../../contract';
import type { EspChip } from '../esp/espImage';
import { CONFIG_BLOCK_SIZE, locateConfigBlock } from './configBlock';

const IMAGE_MAGIC = 0xe9;
const CHECKSUM_SEED = 0xef;
const SECTOR = 0x1000;
const HEADER_BYTES: Record<EspChip, number> = { esp32: 24, esp8266: 8 };
const HASH_APPENDED_AT = 23; // ESP32 extended header: hash_appended
const MAX_SEGMENTS = 16;

interface AppImage {
  start: number;
  /** Segment data ranges, absolute in the buffer. */
  segments: Array<{ from: number; to: number }>;
  checksumAt: number;
  hashAppended: boolean;
}

/** A copy of `image` with `block` written over its config block and the app's checksum (and hash) redone. */
export function stampEspImage(image: Uint8Array, chip: EspChip, block: Uint8Array): Buffer {
  if (block.length !== CONFIG_BLOCK_SIZE) throw new Error(`a config block is ${CONFIG_BLOCK_SIZE} bytes`);
  const at = locateConfigBlock(image);
  const app = appImageHolding(image, chip, at);
  const out = Buffer.from(image);
  out.set(block, at);
  out[app.checksumAt] = checksum(out, app);
  if (app.hashAppended) {
    const digest = createHash('sha256')
      .update(out.subarray(app.start, app.checksumAt + 1))
      .digest();
    digest.copy(out, app.checksumAt + 1);
  }
  return out;
}

/** The app image whose segments hold `offset`: the nearest image start (sector aligned) below it. */
function appImageHolding(image: Uint8Array, chip: EspChip, offset: number): AppImage {
  for (let start = offset - (offset % SECTOR); start >= 0; start -= SECTOR) {
    if (image[start] !== IMAGE_MAGIC) continue;
    const app = parseImage(image, chip, start);
    if (app?.segments.some((s) => s.from <= offset && offset + CONFIG_BLOCK_SIZE <= s.to)) return app;
  }
  throw new MakerdeckError(
    'BAD_INPUT',
    `The config block is not inside an ${chip.toUpperCase()} app image's segments: build it again with Makerdeck`,
  );
}

/** The esptool image format: header, then [load address, length, data] per segment, checksum, hash. */
export function parseImage(image: Uint8Array, chip: EspChip, start: number): AppImage | undefined {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const count = image[start + 1]!;
  let at = start + HEADER_BYTES[chip];
  if (count === 0 || count > MAX_SEGMENTS || at > image.length) return undefined;
  const segments: AppImage['segments'] = [];
  for (let i = 0; i < count; i++) {
    if (at + 8 > image.length) return undefined;
    const length = view.getUint32(at + 4, true);
    if (at + 8 + length > image.length) return undefined;
    segments.push({ from: at + 8, to: at + 8 + length });
    at += 8 + length;
  }
  const checksumAt = start + (((at - start) | 15) >>> 0); // the last byte of the 16-byte block holding `at`
  const hashAppended = chip === 'esp32' && image[start + HASH_APPENDED_AT] === 1;
  if (checksumAt >= image.length || (hashAppended && checksumAt + 33 > image.length)) return undefined;
  return { start, segments, checksumAt, hashAppended };
}

function checksum(image: Uint8Array, app: AppImage): number {
  let sum = CHECKSUM_SEED;
  for (const { from, to } of app.segments) for (let i = from; i < to; i++) sum ^= image[i]!;
  return sum;
}
