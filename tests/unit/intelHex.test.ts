import { describe, expect, it } from 'vitest';
import { parseIntelHex, toIntelHex } from '../../electron/core/firmware/intelHex';

const FLASH = 32256;

describe('Intel HEX', () => {
  it('round-trips an image through toIntelHex and parseIntelHex', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    const image = parseIntelHex(toIntelHex(data), FLASH);
    expect(image.data).toEqual(data);
    expect(image.used).toBe(1000);
  });

  it('parses a real avr-objcopy record and fills gaps with 0xFF', () => {
    const text = ':100000000C945C000C946E000C946E000C946E00CA\n:02001400FFCF1C\n:00000001FF\n';
    const image = parseIntelHex(text, FLASH);
    expect(Array.from(image.data.subarray(0, 4))).toEqual([0x0c, 0x94, 0x5c, 0x00]);
    expect(image.data[0x10]).toBe(0xff);
    expect(image.data.length).toBe(0x16);
    expect(image.used).toBe(18);
  });

  it('honours extended segment and linear address records', () => {
    const text = [':020000021000EC', ':0100000042BD', ':00000001FF'].join('\n');
    expect(parseIntelHex(text, 0x20000).data[0x10000]).toBe(0x42);
  });

  it.each([
    [':100000000C945C000C946E000C946E000C946E00CB\n:00000001FF', /line 1: bad checksum/],
    [':0100000642B7\n:00000001FF', /line 1: unknown record type 6/],
    [':10000000\n:00000001FF', /line 1: says 16 data bytes but has 0/],
    ['hello\n:00000001FF', /line 1: does not start with ":"/],
    [':0100000GG0\n:00000001FF', /line 1: is not hexadecimal/],
    [':0100000042BD\n', /no end-of-file record/],
    [':00000001FF\n', /holds no data/],
  ])('rejects %j', (text, message) => {
    expect(() => parseIntelHex(text, FLASH)).toThrow(message);
  });

  it('rejects data past the end of flash, naming the address', () => {
    const text = toIntelHex(new Uint8Array(FLASH + 16));
    expect(() => parseIntelHex(text, FLASH)).toThrow(/data at 0x7e00 runs past the end of flash \(32256 bytes\)/);
  });
});
