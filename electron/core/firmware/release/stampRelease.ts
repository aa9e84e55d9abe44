// A release: a build's image with one board's config block written in, in memory only (the result
// goes straight to a flasher; nothing holding a secret is written to disk).
import { MakerdeckError, type FlashBoard } from '../../../contract';
import { stampEspImage } from './stampEspImage';
import { stampHex } from './stampHex';

/** The image with `block` stamped in: Intel HEX for AVR boards, the app image for ESP32/ESP8266. */
export function stampRelease(image: { format: 'hex' | 'bin'; data: Buffer }, board: FlashBoard, block: Buffer): Buffer {
  const esp = board === 'esp32' || board === 'esp8266';
  if (esp !== (image.format === 'bin'))
    throw new MakerdeckError(
      'BAD_INPUT',
      `A ${board} build is ${esp ? 'a .bin' : 'Intel HEX'}: build it for that board`,
    );
  if (esp) return stampEspImage(image.data, board, block);
  return Buffer.from(stampHex(image.data.toString('latin1'), block), 'latin1');
}
