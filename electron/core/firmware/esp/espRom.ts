// The ESP32 ROM loader's own commands where they differ from the stub's: it attaches the SPI flash
// only when told, takes 1 KB flash blocks, and answers SPI_FLASH_MD5 in hex text. esptool-js 0.7
// sends the stub's shapes of these, so they are sent here as esptool does for the ROM.
import type { ESPLoader } from 'esptool-js';

/** esptool's FLASH_WRITE_SIZE for the ROM loaders (the stub takes 16 KB). */
export const ROM_FLASH_BLOCK = 0x400;
const OP_SPI_ATTACH = 0x0d;
const OP_SPI_FLASH_MD5 = 0x13;
const MD5_HEX_CHARS = 32;

/** SPI_ATTACH with the default pins; the ROM's form carries a fifth "legacy" byte and three zero bytes. */
export async function attachFlash(loader: ESPLoader): Promise<void> {
  await loader.checkCommand('configure SPI flash pins', OP_SPI_ATTACH, new Uint8Array(8));
}

/** MD5 of `size` flash bytes at `address`, computed by the ROM: 32 hex characters. */
export async function romFlashMd5(loader: ESPLoader, address: number, size: number): Promise<string> {
  const args = new Uint8Array(16);
  const view = new DataView(args.buffer);
  view.setUint32(0, address, true);
  view.setUint32(4, size, true);
  const timeout = loader.timeoutPerMb(loader.MD5_TIMEOUT_PER_MB, size);
  const reply = await loader.checkCommand('calculate md5sum', OP_SPI_FLASH_MD5, args, 0, MD5_HEX_CHARS, timeout);
  const text = Buffer.from(reply as Uint8Array).toString('latin1');
  if (!/^[0-9a-f]{32}$/i.test(text)) throw new Error(`The ROM answered the MD5 with ${JSON.stringify(text)}`);
  return text.toLowerCase();
}
