// An ESP32 release on the real ESP32 mask ROM (QEMU): an app image made by PyPI's esptool from an
// ELF (no ESP compiler here), released through `makerdeck flash --profile NAME FILE` — the profile's
// config block stamped in memory, checksum and SHA-256 redone — and written by the ROM's own loader.
// The emulator's flash file is then read back: esptool's image_info finds checksum and hash valid,
// the block decodes to the profile's values, and every other byte is esptool's.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlashSummary } from '../../electron/contract';
import {
  CONFIG_BLOCK_SIZE,
  decodeConfigBlock,
  encodeConfigBlock,
  locateConfigBlock,
} from '../../electron/core/firmware/release/configBlock';
import { runCli } from '../support/cli';
import { esp32AppImage, esptoolImageInfo } from '../support/espAppImage';
import { bootEsp32, flashAt, type EmulatedEsp32 } from '../support/esp32Qemu';
import { findSecrets, snapshot } from '../support/files';

const APP = 0x10000;
const WIFI = 'esp-release-wifi-Jq83v';
const MQTT = 'esp-release-mqtt-Tc52x';
const PROFILE = {
  deviceId: 'esp-bench-3',
  wifiSsid: 'makerspace-5G',
  mqttHost: 'broker.lan',
  mqttPort: 8883,
  mqttTls: true,
  mqttUsername: 'esp-bench-3-user', // the profile's own login (a stack device login needs the stack)
  intervalS: 15,
};
let scratch: string;
let env: NodeJS.ProcessEnv;
let esp: EmulatedEsp32 & { dispose(): Promise<void> };

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-esp-release-'));
  env = { MAKERDECK_DATA_DIR: path.join(scratch, 'data'), MAKERDECK_CACHE_DIR: path.join(scratch, 'cache') };
  const created = await runCli(
    ['profile', 'set', 'ESP Bench', '--board', 'esp32:esp32:esp32', '--ssid', PROFILE.wifiSsid]
      .concat(['--mqtt-host', PROFILE.mqttHost, '--mqtt-port', String(PROFILE.mqttPort), '--tls'])
      .concat(['--mqtt-user', PROFILE.mqttUsername, '--device-id', PROFILE.deviceId, '--interval', '15'])
      .concat(['--wifi-password', '--mqtt-password']),
    env,
    { input: `${WIFI}\n${MQTT}\n` },
  );
  expect(created.code, created.stderr).toBe(0);
  esp = await bootEsp32();
}, 120_000);

afterAll(async () => {
  await esp?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

describe('ESP32 release on the real ROM (QEMU)', () => {
  it("stamps a profile into esptool's app image; the flash holds a valid image with the profile's block", async () => {
    const app = await esp32AppImage(scratch);
    expect((await esptoolImageInfo(app.file)).checksum).toBe('valid');
    const blockAt = locateConfigBlock(app.bytes);
    expect(decodeConfigBlock(app.bytes.subarray(blockAt)).provisioned).toBe(false);

    const result = await runCli(
      ['flash', '--profile', 'ESP Bench', '--port', esp.serial, '--no-stub', app.file, '--json'],
      env,
      { timeoutMs: 120_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout) as FlashSummary).toMatchObject({
      board: 'esp32',
      bytes: app.bytes.length,
      verified: true,
      loader: 'rom',
      release: { deviceId: PROFILE.deviceId, cached: false, file: 'app.bin' },
    });

    const flashed = flashAt(esp, APP, app.bytes.length);
    const readBack = path.join(scratch, 'read-back.bin');
    writeFileSync(readBack, flashed);
    const info = await esptoolImageInfo(readBack);
    expect({ checksum: info.checksum, hash: info.hash }, info.text).toEqual({ checksum: 'valid', hash: 'valid' });

    const block = decodeConfigBlock(flashed.subarray(blockAt, blockAt + CONFIG_BLOCK_SIZE));
    expect(block).toEqual({
      provisioned: true,
      crcOk: true,
      values: { ...PROFILE, wifiPassword: WIFI, mqttPassword: MQTT },
    });
    // Outside the block, the checksum byte and the 32-byte hash after it, every byte is esptool's.
    const tail = app.bytes.length - 33;
    const changed = [...flashed.keys()].filter((i) => flashed[i] !== app.bytes[i]);
    expect(changed.every((i) => (i >= blockAt && i < blockAt + CONFIG_BLOCK_SIZE) || i >= tail)).toBe(true);
    expect(flashAt(esp, 0, APP).every((byte) => byte === 0xff)).toBe(true); // bootloader and table untouched

    expect(result.stdout + result.stderr).not.toContain(WIFI);
    const leaks = [
      env.MAKERDECK_DATA_DIR!,
      env.MAKERDECK_CACHE_DIR!,
      path.join(os.tmpdir(), `makerdeck-${process.getuid!()}`),
    ].flatMap((dir) =>
      [...snapshot(dir, { includeLogs: true })].flatMap(([name, bytes]) => findSecrets(name, bytes, [WIFI, MQTT])),
    );
    expect(leaks).toEqual([]);
  }, 240_000);

  it('esptool itself refuses the same block written without the checksum and hash redone (the check can fail)', async () => {
    const app = await esp32AppImage(scratch);
    const blockAt = locateConfigBlock(app.bytes);
    const naive = Buffer.from(app.bytes);
    encodeConfigBlock({ ...PROFILE, wifiPassword: WIFI, mqttPassword: MQTT }).copy(naive, blockAt);
    const file = path.join(scratch, 'naive.bin');
    writeFileSync(file, naive);
    const info = await esptoolImageInfo(file);
    expect({ checksum: info.checksum, hash: info.hash }).not.toEqual({ checksum: 'valid', hash: 'valid' });
    expect(info.hash).toBe('invalid');
  }, 60_000);
});
