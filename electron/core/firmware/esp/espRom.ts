// Flashing through the ESP32 ROM loader's own commands, where they differ from the stub's: the ROM
// reaches the flash only once told to (SPI_ATTACH, with its extra word), takes 1 KB blocks that it
// writes before answering, and answers SPI_FLASH_MD5 in hex text. Writes are uncompressed, as
// esptool's are by default without the stub: on the emulated ROM, FLASH_DEFL_DATA is refused at a
// random block now and then (esptool 4.8.1 --no-stub --compress fails the same way there).
import { createHash } from 'node:crypto';
import type { ESPLoader } from 'esptool-js';
import type { EspImagePart } from './espImage';

/** esptool's FLASH_WRITE_SIZE for the ROM loaders (the stub takes 16 KB). */
export const ROM_FLASH_BLOCK = 0x400;
const OP_FLASH_BEGIN = 0x02;
const OP_SPI_ATTACH = 0x0d;
const OP_SPI_FLASH_MD5 = 0x13;
const MD5_HEX_CHARS = 32;

/** SPI_ATTACH with the default pins; the ROM's form carries a fifth "legacy" byte and three zero bytes. */
export async function attachFlash(loader: ESPLoader): Promise<void> {
  await loader.checkCommand('configure SPI flash pins', OP_SPI_ATTACH, new Uint8Array(8));
}

/** The part as it is written: padded to 4 bytes with 0xFF, as esptool does. */
export function paddedImage(part: EspImagePart): Uint8Array {
  if (part.data.length % 4 === 0) return part.data;
  const padded = new Uint8Array(Math.ceil(part.data.length / 4) * 4).fill(0xff);
  padded.set(part.data);
  return padded;
}

/**
 * Erases and writes one part with FLASH_BEGIN / FLASH_DATA; `onBlock` gets the image bytes written so
 * far. No FLASH_END: it would make the ROM leave the loader (esptool does not send it either).
 */
export async function romWritePart(
  loader: ESPLoader,
  part: EspImagePart,
  onBlock: (written: number) => void,
): Promise<void> {
  const image = paddedImage(part);
  const blocks = Math.ceil(image.length / ROM_FLASH_BLOCK);
  const eraseTimeout = loader.timeoutPerMb(loader.ERASE_REGION_TIMEOUT_PER_MB, image.length);
  const begin = words(image.length, blocks, ROM_FLASH_BLOCK, part.address); // the ESP32 ROM takes four words
  await loader.checkCommand('enter Flash download mode', OP_FLASH_BEGIN, begin, 0, 0, eraseTimeout);
  const blockTimeout = loader.timeoutPerMb(loader.ERASE_WRITE_TIMEOUT_PER_MB, ROM_FLASH_BLOCK);
  for (let seq = 0; seq < blocks; seq++) {
    const block = new Uint8Array(ROM_FLASH_BLOCK).fill(0xff); // the last one padded, as esptool does
    block.set(image.subarray(seq * ROM_FLASH_BLOCK, (seq + 1) * ROM_FLASH_BLOCK));
    await loader.flashBlock(block, seq, blockTimeout);
    onBlock(Math.min(part.data.length, (seq + 1) * ROM_FLASH_BLOCK));
  }
}

/** True when the ROM's MD5 of the flash matches the part as written. */
export async function romVerifyPart(loader: ESPLoader, part: EspImagePart): Promise<boolean> {
  const image = paddedImage(part);
  const expected = createHash('md5').update(image).digest('hex');
  return (await romFlashMd5(loader, part.address, image.length)) === expected;
}

/** MD5 of `size` flash bytes at `address`, computed by the ROM: 32 hex characters. */
export async function romFlashMd5(loader: ESPLoader, address: number, size: number): Promise<string> {
  const timeout = loader.timeoutPerMb(loader.MD5_TIMEOUT_PER_MB, size);
  const args = words(address, size, 0, 0);
  const reply = await loader.checkCommand('calculate md5sum', OP_SPI_FLASH_MD5, args, 0, MD5_HEX_CHARS, timeout);
  const text = Buffer.from(reply as Uint8Array).toString('latin1');
  if (!/^[0-9a-f]{32}$/i.test(text)) throw new Error(`The ROM answered the MD5 with ${JSON.stringify(text)}`);
  return text.toLowerCase();
}

function words(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => view.setUint32(index * 4, value >>> 0, true));
  return bytes;
}
