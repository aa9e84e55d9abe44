// ESP images built here per esptool's format (header, segments, XOR checksum in the last byte of the
// 16-byte-aligned tail, SHA-256 appended when the ESP32 header says so), then stamped and checked by
// computing the checksum and hash independently.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  NO_CONFIG_BLOCK,
  decodeConfigBlock,
  encodeConfigBlock,
  locateConfigBlock,
} from '../../electron/core/firmware/release/configBlock';
import { stampEspImage } from '../../electron/core/firmware/release/stampEspImage';
import { blankBlock, filler, sampleValues } from '../support/configBlocks';

interface Segment {
  address: number;
  data: Uint8Array;
}

/** An esptool-format image: ESP32 (24-byte header, optional SHA-256) or ESP8266 (8-byte header). */
function espImage(chip: 'esp32' | 'esp8266', segments: Segment[], hashAppended = true): Buffer {
  const header = Buffer.alloc(chip === 'esp32' ? 24 : 8);
  header[0] = 0xe9;
  header[1] = segments.length;
  header[2] = 2; // DIO
  header[3] = 0x20; // 4 MB, 40 MHz
  header.writeUInt32LE(0x400d1234, 4);
  if (chip === 'esp32') {
    header[8] = 0xee; // wp pin
    header.writeUInt16LE(0, 12); // chip id: ESP32
    header.writeUInt16LE(0xffff, 17); // max chip revision
    header[23] = hashAppended ? 1 : 0;
  }
  const parts: Buffer[] = [header];
  let checksum = 0xef;
  for (const segment of segments) {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(segment.address, 0);
    head.writeUInt32LE(segment.data.length, 4);
    parts.push(head, Buffer.from(segment.data));
    for (const byte of segment.data) checksum ^= byte;
  }
  const length = parts.reduce((n, p) => n + p.length, 0);
  parts.push(Buffer.alloc(15 - (length % 16)), Buffer.of(checksum));
  const image = Buffer.concat(parts);
  return chip === 'esp32' && hashAppended ? Buffer.concat([image, createHash('sha256').update(image).digest()]) : image;
}

/** Checksum and hash of the image at `start`, recomputed by walking its segments here. */
function verify(image: Buffer, start: number, chip: 'esp32' | 'esp8266') {
  let at = start + (chip === 'esp32' ? 24 : 8);
  let checksum = 0xef;
  for (let i = 0; i < image[start + 1]!; i++) {
    const length = image.readUInt32LE(at + 4);
    for (const byte of image.subarray(at + 8, at + 8 + length)) checksum ^= byte;
    at += 8 + length;
  }
  while ((at - start) % 16 !== 15) at++;
  const hashed = chip === 'esp32' && image[start + 23] === 1;
  return {
    checksumOk: image[at] === checksum,
    hashOk: hashed
      ? createHash('sha256')
          .update(image.subarray(start, at + 1))
          .digest()
          .equals(image.subarray(at + 1, at + 33))
      : undefined,
  };
}

function rodataWithBlock(size: number, at: number): Uint8Array {
  const data = filler(size, 3);
  data.set(blankBlock(), at);
  return data;
}

const segmentsWithBlock = (): Segment[] => [
  { address: 0x3f400020, data: rodataWithBlock(0x2000, 0x321) },
  { address: 0x3ffb0000, data: filler(0x400, 5) },
  { address: 0x400d0020, data: filler(0x3000, 9) },
];

describe('stamping an ESP image', () => {
  it('ESP32 app: the block is written, checksum and SHA-256 are valid again, nothing else moved', () => {
    const image = espImage('esp32', segmentsWithBlock());
    expect(verify(image, 0, 'esp32')).toEqual({ checksumOk: true, hashOk: true });
    const values = sampleValues();
    const stamped = stampEspImage(image, 'esp32', encodeConfigBlock(values));
    expect(verify(stamped, 0, 'esp32')).toEqual({ checksumOk: true, hashOk: true });
    const at = locateConfigBlock(stamped);
    expect(decodeConfigBlock(stamped.subarray(at, at + 400))).toEqual({ provisioned: true, crcOk: true, values });
    const differing = [...stamped.keys()].filter((i) => stamped[i] !== image[i]);
    expect(differing.every((i) => (i >= at && i < at + 400) || i >= image.length - 33)).toBe(true);
    expect(image.equals(espImage('esp32', segmentsWithBlock()))).toBe(true); // the build is untouched
  });

  it('ESP32 app without an appended hash: only the checksum is redone', () => {
    const image = espImage('esp32', segmentsWithBlock(), false);
    const stamped = stampEspImage(image, 'esp32', encodeConfigBlock(sampleValues()));
    expect(verify(stamped, 0, 'esp32')).toEqual({ checksumOk: true, hashOk: undefined });
    expect(stamped.length).toBe(image.length);
  });

  it('ESP32 merged image: the app at 0x10000 is stamped; bootloader and partitions stay byte for byte', () => {
    const bootloader = espImage('esp32', [{ address: 0x3fff0000, data: filler(0x800, 11) }]);
    const app = espImage('esp32', segmentsWithBlock());
    const merged = Buffer.alloc(0x10000 + app.length, 0xff);
    bootloader.copy(merged, 0x1000);
    filler(0xc00, 13).forEach((b, i) => (merged[0x8000 + i] = b));
    app.copy(merged, 0x10000);
    const stamped = stampEspImage(merged, 'esp32', encodeConfigBlock(sampleValues({ deviceId: 'merged-1' })));
    expect(stamped.subarray(0, 0x10000).equals(merged.subarray(0, 0x10000))).toBe(true);
    expect(verify(stamped, 0x10000, 'esp32')).toEqual({ checksumOk: true, hashOk: true });
    expect(verify(stamped, 0x1000, 'esp32')).toEqual({ checksumOk: true, hashOk: true });
  });

  it('ESP8266: eboot at 0, the app at 0x1000 gets a valid checksum (the v1 format has no hash)', () => {
    const eboot = espImage('esp8266', [{ address: 0x4010f000, data: filler(0x600, 17) }]);
    const app = espImage('esp8266', [
      { address: 0x40201010, data: filler(0x1800, 19) },
      { address: 0x3ffe8000, data: rodataWithBlock(0x900, 0x44) },
    ]);
    const flat = Buffer.alloc(0x1000 + app.length, 0xff);
    eboot.copy(flat, 0);
    app.copy(flat, 0x1000);
    const stamped = stampEspImage(flat, 'esp8266', encodeConfigBlock(sampleValues({ mqttTls: true })));
    expect(stamped.subarray(0, 0x1000).equals(flat.subarray(0, 0x1000))).toBe(true);
    expect(verify(stamped, 0x1000, 'esp8266')).toEqual({ checksumOk: true, hashOk: undefined });
    expect(stamped.length).toBe(flat.length);
    expect(decodeConfigBlock(stamped.subarray(locateConfigBlock(stamped))).values.mqttTls).toBe(true);
  });

  it('refuses an image without a block, and a block outside every segment', () => {
    const plain = espImage('esp32', [{ address: 0x3f400020, data: filler(0x1000) }]);
    expect(() => stampEspImage(plain, 'esp32', encodeConfigBlock(sampleValues()))).toThrow(NO_CONFIG_BLOCK);
    const outside = Buffer.concat([plain, Buffer.alloc(100), blankBlock()]);
    expect(() => stampEspImage(outside, 'esp32', encodeConfigBlock(sampleValues()))).toThrow(
      /not inside an ESP32 app image's segments/,
    );
  });
});
