// Test sketches written on the fly: a big PROGMEM table whose checksum the sketch prints, so a
// test can tell that every byte of a ~30 KB image reached the flash intact.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function tableBytes(size: number, seed = 0x2545f491): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** The sketch's checksum: a 32-bit sum of (byte × (index + 1)), as the AVR code computes it. */
export function tableChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum = (sum + bytes[i]! * (i + 1)) >>> 0;
  return sum;
}

/** Writes <dir>/checksum/checksum.ino; returns the sketch folder and the checksum it will print. */
export function writeChecksumSketch(dir: string, tableSize: number): { sketchDir: string; checksum: number } {
  const bytes = tableBytes(tableSize);
  const sketchDir = path.join(dir, 'checksum');
  mkdirSync(sketchDir, { recursive: true });
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 32) rows.push(Array.from(bytes.subarray(i, i + 32)).join(','));
  writeFileSync(
    path.join(sketchDir, 'checksum.ino'),
    `#include <avr/pgmspace.h>
const uint8_t TABLE[${tableSize}] PROGMEM = {
${rows.join(',\n')}
};
void setup() { Serial.begin(115200); }
void loop() {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < sizeof TABLE; i++) sum += (uint32_t)pgm_read_byte(&TABLE[i]) * (i + 1);
  Serial.print(F("checksum=")); Serial.println(sum);
  delay(300);
}
`,
  );
  return { sketchDir, checksum: tableChecksum(bytes) };
}
