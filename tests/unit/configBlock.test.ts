import { describe, expect, it } from 'vitest';
import {
  CONFIG_BLOCK_SIZE,
  NO_CONFIG_BLOCK,
  STRING_FIELDS,
  decodeConfigBlock,
  encodeConfigBlock,
  locateConfigBlock,
} from '../../electron/core/firmware/release/configBlock';
import { bitwiseCrc32, blankBlock, filler, sampleValues } from '../support/configBlocks';

describe('the config block', () => {
  it('round-trips every field, UTF-8 included, with the layout the firmware reads', () => {
    const values = sampleValues({ wifiSsid: 'café ☕', mqttTls: true, mqttPort: 8883, intervalS: 86400 });
    const block = encodeConfigBlock(values);
    expect(block.length).toBe(CONFIG_BLOCK_SIZE);
    expect(decodeConfigBlock(block)).toEqual({ provisioned: true, crcOk: true, values });
    expect(block.subarray(0, 16).toString('latin1')).toBe('MAKERDECK:CONFIG');
    expect([block.readUInt16LE(16), block.readUInt16LE(18), block.readUInt16LE(20)]).toEqual([1, 400, 3]);
    expect([block.readUInt16LE(22), block.readUInt32LE(24)]).toEqual([8883, 86400]);
    expect(block.subarray(28, 28 + 7).toString()).toBe('bench-7');
    expect(block.subarray(382, 396).every((b) => b === 0)).toBe(true);
  });

  it('carries a CRC-32 of bytes 0..395 at 396, and a flipped byte shows', () => {
    const block = encodeConfigBlock(sampleValues());
    expect(block.readUInt32LE(396)).toBe(bitwiseCrc32(block.subarray(0, 396)));
    for (const at of [20, 30, 200, 395]) {
      const damaged = Buffer.from(block);
      damaged[at]! ^= 0x01;
      expect(decodeConfigBlock(damaged).crcOk).toBe(false);
    }
  });

  it('reads the blank placeholder as not provisioned', () => {
    expect(decodeConfigBlock(blankBlock())).toMatchObject({
      provisioned: false,
      values: { deviceId: '', wifiPassword: '', mqttPort: 0 },
    });
  });

  it.each(Object.entries(STRING_FIELDS))('takes a %s of its limit and refuses one byte more', (name, field) => {
    const limit = field.capacity - 1;
    const fits = sampleValues({ [name]: 'x'.repeat(limit) });
    expect(decodeConfigBlock(encodeConfigBlock(fits)).values[name as keyof typeof STRING_FIELDS]).toHaveLength(limit);
    expect(() => encodeConfigBlock(sampleValues({ [name]: 'x'.repeat(limit + 1) }))).toThrow(
      `The ${field.label} is ${limit + 1} bytes; the firmware's config block holds at most ${limit}: shorten it in the profile`,
    );
  });

  it('counts bytes, not characters, and refuses NUL, bad ports and intervals', () => {
    expect(() => encodeConfigBlock(sampleValues({ wifiSsid: 'é'.repeat(17) }))).toThrow(/SSID is 34 bytes.*at most 32/);
    expect(() => encodeConfigBlock(sampleValues({ mqttUsername: 'a\0b' }))).toThrow(/NUL byte/);
    expect(() => encodeConfigBlock(sampleValues({ wifiSsid: 'lab\uD800' }))).toThrow(
      'The Wi-Fi SSID is not valid UTF-8 text: retype it in the profile',
    );
    expect(() => encodeConfigBlock(sampleValues({ mqttPassword: '\uDC00x' }))).toThrow(
      /MQTT password is not valid UTF-8/,
    );
    expect(() => encodeConfigBlock(sampleValues({ mqttPort: 0 }))).toThrow(/MQTT port must be a whole number/);
    expect(() => encodeConfigBlock(sampleValues({ intervalS: 1.5 }))).toThrow(/telemetry interval/);
  });

  it('is found in an image by its magic, version and size; none, two or a newer version say so', () => {
    const image = filler(5000);
    image.set(blankBlock(), 1234);
    expect(locateConfigBlock(image)).toBe(1234);
    expect(() => locateConfigBlock(filler(5000))).toThrow(NO_CONFIG_BLOCK);
    // The magic alone (e.g. a string in someone's sketch) is not a block.
    const magicOnly = filler(5000);
    magicOnly.set(Buffer.from('MAKERDECK:CONFIG'), 10);
    expect(() => locateConfigBlock(magicOnly)).toThrow(NO_CONFIG_BLOCK);
    image.set(blankBlock(), 3000);
    expect(() => locateConfigBlock(image)).toThrow('this firmware holds 2 Makerdeck config blocks');
    const newer = blankBlock();
    newer[16] = 2;
    const future = filler(2000);
    future.set(newer, 100);
    expect(() => locateConfigBlock(future)).toThrow(/version 2, newer than this Makerdeck knows: update Makerdeck/);
  });
});
