// Compressed writes through the flasher stub, the way esptool does them: the part deflated at level 9,
// FLASH_DEFL_BEGIN, 16 KB blocks (the stub acks a block on receipt and writes it while the next one
// arrives), FLASH_DEFL_END, then the stub's MD5 of the flash. Done here instead of esptool-js's
// writeFlash, which inflates every block again with a 1-byte output buffer only to learn its
// uncompressed size: tens of milliseconds per block with the line idle, ~2 s per MB at 115200 baud.
// Here the sizes come from Node's native zlib, computed before the first block.
import { createHash } from 'node:crypto';
import { constants as zlibConstants, createInflate, deflateSync } from 'node:zlib';
import type { ESPLoader } from 'esptool-js';
import type { EspImagePart } from './espImage';
import { paddedImage } from './espRom';

/** esptool's wait for the first block's ack: the stub may still be erasing the first sectors. */
const FIRST_BLOCK_TIMEOUT_MS = 5000;

/** Image bytes of the part written so far (uncompressed), after each block the stub took. */
export type OnStubBlock = (written: number) => void;

/**
 * Writes one part through the running stub and checks the stub's MD5 of it; throws esptool-js's
 * message ("MD5 of file does not match data in flash!") on a mismatch, as its writeFlash did.
 */
export async function stubWritePart(loader: ESPLoader, part: EspImagePart, onBlock: OnStubBlock): Promise<void> {
  const image = paddedImage(part);
  if (image.length === 0) return;
  const compressed = new Uint8Array(deflateSync(image, { level: 9 }));
  const blockSize = loader.FLASH_WRITE_SIZE;
  const sizes = await inflatedBlockSizes(compressed, blockSize);
  await loader.flashDeflBegin(image.length, compressed.length, part.address);
  let timeout = FIRST_BLOCK_TIMEOUT_MS;
  let written = 0;
  for (let seq = 0; seq * blockSize < compressed.length; seq++) {
    const block = compressed.subarray(seq * blockSize, (seq + 1) * blockSize);
    await loader.flashDeflBlock(block, seq, timeout);
    // The stub writes this block while the next one arrives: the next ack waits for that write.
    timeout = loader.timeoutPerMb(loader.ERASE_WRITE_TIMEOUT_PER_MB, sizes[seq] ?? 0);
    written += sizes[seq] ?? 0;
    onBlock(Math.min(part.data.length, written));
  }
  await loader.flashDeflFinish(false, timeout);
  const expected = createHash('md5').update(image).digest('hex');
  if ((await loader.flashMd5sum(part.address, image.length)) !== expected)
    throw new Error('MD5 of file does not match data in flash!');
}

/**
 * How many uncompressed bytes each `blockSize` slice of a zlib stream inflates to, by native zlib
 * (a sync flush after each slice makes zlib hand out everything that slice decodes to).
 */
export function inflatedBlockSizes(compressed: Uint8Array, blockSize: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const inflate = createInflate();
    const sizes: number[] = [];
    let out = 0;
    inflate.on('data', (chunk: Buffer) => (out += chunk.length));
    inflate.on('error', reject);
    const next = (seq: number, before: number) => {
      if (seq * blockSize >= compressed.length) {
        inflate.end(() => resolve(sizes));
        return;
      }
      inflate.write(compressed.subarray(seq * blockSize, (seq + 1) * blockSize));
      inflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        sizes.push(out - before);
        next(seq + 1, out);
      });
    };
    next(0, 0);
  });
}
