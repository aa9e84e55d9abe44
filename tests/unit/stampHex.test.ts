import { describe, expect, it } from 'vitest';
import { parseIntelHex, toIntelHex } from '../../electron/core/firmware/intelHex';
import {
  NO_CONFIG_BLOCK,
  decodeConfigBlock,
  encodeConfigBlock,
} from '../../electron/core/firmware/release/configBlock';
import { stampHex } from '../../electron/core/firmware/release/stampHex';
import { blankBlock, filler, sampleValues } from '../support/configBlocks';

/** A flat image with the blank block at `at`, as Intel HEX. */
function build(size: number, at: number): { data: Uint8Array; hex: string } {
  const data = filler(size);
  data.set(blankBlock(), at);
  return { data, hex: toIntelHex(data) };
}

/** Every record's checksum, computed here from the line's bytes. */
function checksumsOk(hex: string): boolean {
  return hex
    .trim()
    .split(/\r?\n/)
    .every((line) => Buffer.from(line.slice(1), 'hex').reduce((sum, b) => (sum + b) & 0xff, 0) === 0);
}

describe('stamping an Intel HEX image', () => {
  it('writes the block across records at an unaligned address; checksums hold and it decodes back', () => {
    const { data, hex } = build(20_000, 0x1237);
    const values = sampleValues();
    const stamped = stampHex(hex, encodeConfigBlock(values));
    expect(checksumsOk(stamped)).toBe(true);
    const image = parseIntelHex(stamped, 32 * 1024).data;
    expect(decodeConfigBlock(image.subarray(0x1237, 0x1237 + 400))).toEqual({ provisioned: true, crcOk: true, values });
    // Only the block changed, and only the lines holding it.
    const expected = Uint8Array.from(data);
    expected.set(encodeConfigBlock(values), 0x1237);
    expect(Buffer.from(image).equals(Buffer.from(expected))).toBe(true);
    const before = hex.split('\n');
    const changed = stamped.split('\n').flatMap((line, i) => (line !== before[i] ? [i] : []));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((i) => i >= Math.floor(0x1237 / 16) && i < Math.ceil((0x1237 + 400) / 16))).toBe(true);
  });

  it('follows extended address records past 64 KiB and keeps CRLF line ends', () => {
    const { hex } = build(80_000, 0x10005);
    const crlf = hex.replace(/\n/g, '\r\n');
    const stamped = stampHex(crlf, encodeConfigBlock(sampleValues({ deviceId: 'far-away' })));
    expect(stamped.split('\r\n').length).toBe(crlf.split('\r\n').length);
    expect(checksumsOk(stamped)).toBe(true);
    const image = parseIntelHex(stamped, 128 * 1024).data;
    expect(decodeConfigBlock(image.subarray(0x10005, 0x10005 + 400)).values.deviceId).toBe('far-away');
  });

  it('stamps an already stamped image again (a second release of the same build)', () => {
    const { hex } = build(4096, 64);
    const first = stampHex(hex, encodeConfigBlock(sampleValues({ deviceId: 'one' })));
    const second = stampHex(first, encodeConfigBlock(sampleValues({ deviceId: 'two' })));
    expect(decodeConfigBlock(parseIntelHex(second, 4096).data.subarray(64, 464)).values.deviceId).toBe('two');
  });

  it('says exactly what is wrong with an image without a block, and with a damaged line', () => {
    const plain = toIntelHex(filler(3000));
    expect(() => stampHex(plain, encodeConfigBlock(sampleValues()))).toThrow(NO_CONFIG_BLOCK);
    const { hex } = build(3000, 100);
    const broken = hex.replace(
      /^(:10000000)(..)/m,
      (_all, head: string, byte: string) => head + (byte === '00' ? '01' : '00'),
    );
    expect(() => stampHex(broken, encodeConfigBlock(sampleValues()))).toThrow(/Intel HEX line 1: bad checksum/);
  });
});
