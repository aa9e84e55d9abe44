// Test helpers for config blocks: the build's blank placeholder as the firmware declares it, values,
// and a CRC-32 written out bit by bit (independent of the zlib one the module uses).
import { CONFIG_BLOCK_SIZE, type ConfigValues } from '../../electron/core/firmware/release/configBlock';

/** The placeholder a build carries: magic, version 1, size 400, no flags, zeros, CRC 0. */
export function blankBlock(): Uint8Array {
  const block = new Uint8Array(CONFIG_BLOCK_SIZE);
  block.set(Buffer.from('MAKERDECK:CONFIG', 'latin1'));
  block[16] = 1;
  block[18] = CONFIG_BLOCK_SIZE & 0xff;
  block[19] = CONFIG_BLOCK_SIZE >> 8;
  return block;
}

export function sampleValues(overrides: Partial<ConfigValues> = {}): ConfigValues {
  return {
    deviceId: 'bench-7',
    wifiSsid: 'makerspace',
    wifiPassword: 'wifi-secret-123',
    mqttHost: 'broker.lan',
    mqttPort: 1883,
    mqttTls: false,
    mqttUsername: 'bench-7',
    mqttPassword: 'mqtt-secret-456',
    intervalS: 10,
    ...overrides,
  };
}

/** CRC-32 (reflected, polynomial 0xEDB88320), the way firmware/config_block.cpp computes it. */
export function bitwiseCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** `size` pseudo-random bytes (a fixed seed), with no accidental magic in them. */
export function filler(size: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}
