// ESP32 flashing against the real ESP32 mask ROM, running in Espressif's QEMU machine in download
// mode (the rig in tests/support/esp32Qemu.ts). Its UART is a pty: no DTR/RTS, and it cannot follow a
// baud change. Bytes are checked in the emulator's own flash file at the offset written.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  flashEsp,
  STUB_FALLBACK_TEXT,
  type EspProgress,
  type FlashEspOptions,
} from '../../electron/core/firmware/esp/espFlasher';
import { runCli } from '../support/cli';
import { failure } from '../support/failure';
import { bootEsp32, flashAt, legacyStub, randomImage, resetCircuit, type EmulatedEsp32 } from '../support/esp32Qemu';
import { fakeEsp32Merged } from '../rig/esp/testImages';

const APP = 0x10000;
const ROM_ONLY: Partial<FlashEspOptions> = { noStub: true, bauds: [115200] };

const chips: Array<{ dispose(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(chips.splice(0).map((chip) => chip.dispose()));
});

async function boot(flash?: string) {
  const esp = await bootEsp32(flash);
  chips.push(esp);
  return esp;
}

function holds(esp: EmulatedEsp32, part: { address: number; data: Uint8Array }): boolean {
  return flashAt(esp, part.address, part.data.length).equals(Buffer.from(part.data));
}

describe('ESP32 flashing on the real ESP32 ROM (QEMU)', () => {
  it("flashes with the ROM's own loader: sync, SPI attach, 1 KB blocks, MD5 by the ROM", async () => {
    const esp = await boot();
    const parts = [
      { address: 0x1000, data: randomImage(20_001) }, // odd length: padded to 4 bytes with 0xFF
      { address: APP, data: randomImage(64 * 1024) },
    ];
    const lines: string[] = [];
    const result = await flashEsp({ port: esp.serial, chip: 'esp32', parts, log: (l) => lines.push(l), ...ROM_ONLY });
    expect(result).toMatchObject({
      loader: 'rom',
      stubFailed: false,
      baud: 115200,
      hardReset: false, // a pty has no reset lines
      flashBytes: 4 * 1024 * 1024, // from the flash chip's JEDEC id, read through the ROM
      bytes: 20_001 + 64 * 1024,
    });
    expect(result.chip).toMatch(/^ESP32/);
    expect(parts.every((part) => holds(esp, part))).toBe(true);
    expect(flashAt(esp, 0x1000 + 20_001, 3).equals(Buffer.from([0xff, 0xff, 0xff]))).toBe(true);
    expect(flashAt(esp, 0, 0x1000).every((byte) => byte === 0xff)).toBe(true); // nothing else touched
    expect(lines).toContain("Flashing with the ROM's own loader: 1 KB uncompressed blocks, MD5 by the ROM");
  }, 120_000);

  it('runs esptool 4.8.1 legacy stub on the ROM and flashes through it', async () => {
    const esp = await boot();
    const part = { address: APP, data: randomImage(96 * 1024) };
    const result = await flashEsp({
      port: esp.serial,
      chip: 'esp32',
      parts: [part],
      stub: legacyStub(),
      bauds: [115200],
    });
    expect(result).toMatchObject({ loader: 'stub', stubFailed: false, baud: 115200 });
    expect(holds(esp, part)).toBe(true);
  }, 120_000);

  it("falls back to the ROM loader when esptool-js's stub never starts, and from 921600 to 115200 (reset-circuit stand-in)", async () => {
    const esp = await boot();
    const circuit = resetCircuit(esp);
    const part = { address: APP, data: randomImage(32 * 1024) };
    const lines: string[] = [];
    const notices: EspProgress[] = [];
    const result = await flashEsp({
      port: esp.serial,
      chip: 'esp32',
      parts: [part],
      openPort: circuit.open,
      log: (l) => lines.push(l),
      onProgress: (p) => p.notice && notices.push(p),
    });
    expect(result).toMatchObject({
      loader: 'rom',
      stubFailed: true,
      baud: 115200,
      failedBauds: [921600, 460800], // the emulated UART on a pty cannot follow a baud change
      hardReset: true,
    });
    expect(lines.filter((l) => l.startsWith(STUB_FALLBACK_TEXT))).toHaveLength(1);
    expect(notices.map((p) => p.notice)).toEqual([STUB_FALLBACK_TEXT]);
    expect(circuit.resets()).toBeGreaterThanOrEqual(4); // out of the hung stub, out of each dead speed, the final reset
    expect(holds(esp, part)).toBe(true);
  }, 180_000);

  it('switches the legacy stub to 921600 (its own speed change works on the emulated UART) and flashes there', async () => {
    const esp = await boot();
    const part = { address: APP, data: randomImage(48 * 1024) };
    const result = await flashEsp({ port: esp.serial, chip: 'esp32', parts: [part], stub: legacyStub() });
    expect(result).toMatchObject({ loader: 'stub', stubFailed: false, baud: 921600, failedBauds: [] });
    expect(holds(esp, part)).toBe(true);
  }, 120_000);

  it('keeps the ROM loader at 115200 on a port without DTR/RTS, where a failed speed change could not be undone', async () => {
    const esp = await boot();
    const part = { address: APP, data: randomImage(16 * 1024) };
    const lines: string[] = [];
    const result = await flashEsp({
      port: esp.serial,
      chip: 'esp32',
      parts: [part],
      noStub: true,
      log: (l) => lines.push(l),
    });
    expect(result).toMatchObject({ loader: 'rom', baud: 115200, failedBauds: [] });
    expect(lines.some((l) => /^No DTR\/RTS on this port .* the ROM loader stays at 115200 baud$/.test(l))).toBe(true);
    expect(holds(esp, part)).toBe(true);
  }, 120_000);

  it('says in one line that the ROM did not answer after the stub, on a pty nothing can reset; flashes ROM-only once reset', async () => {
    const esp = await boot();
    const part = { address: APP, data: randomImage(16 * 1024) };
    await failure(
      flashEsp({ port: esp.serial, chip: 'esp32', parts: [part], bauds: [115200] }),
      'UNAVAILABLE',
      new RegExp(
        `^The flasher stub did not start on ${esp.serial}, and the ROM loader did not answer after it: hold BOOT`,
      ),
    );
    await esp.reset(); // the operator holds BOOT and presses EN
    await flashEsp({ port: esp.serial, chip: 'esp32', parts: [part], ...ROM_ONLY });
    expect(holds(esp, part)).toBe(true);
  }, 120_000);

  it('cancels a ROM write mid-way in one line; the next flash works without a reset', async () => {
    const esp = await boot();
    const part = { address: APP, data: randomImage(128 * 1024) };
    const controller = new AbortController();
    let abortedAt = 0;
    const onProgress = (p: EspProgress) => {
      if (p.phase === 'write' && p.bytesDone > 0 && !controller.signal.aborted) {
        abortedAt = Date.now();
        controller.abort();
      }
    };
    await failure(
      flashEsp({ port: esp.serial, chip: 'esp32', parts: [part], signal: controller.signal, onProgress, ...ROM_ONLY }),
      'CANCELLED',
      /^Flashing was cancelled/,
    );
    expect(Date.now() - abortedAt).toBeLessThan(2000);
    expect(holds(esp, part)).toBe(false);
    await flashEsp({ port: esp.serial, chip: 'esp32', parts: [part], ...ROM_ONLY });
    expect(holds(esp, part)).toBe(true);
  }, 120_000);

  it('reports the chip stopped mid-write (unplugged) in one line; a new chip on the same flash is flashed', async () => {
    const first = await boot();
    const part = { address: APP, data: randomImage(128 * 1024) };
    let stopping: Promise<void> | undefined;
    const onProgress = (p: EspProgress) => {
      if (p.phase === 'write' && p.bytesDone > 0) stopping ??= first.stop(); // pulls the cable: QEMU exits
    };
    await failure(
      flashEsp({ port: first.serial, chip: 'esp32', parts: [part], onProgress, ...ROM_ONLY }),
      'UNAVAILABLE',
      new RegExp(`^${first.serial} was unplugged during the write at 0x[0-9a-f]+ \\(\\d+%\\): plug the board back in`),
    );
    await stopping;
    expect(first.alive()).toBe(false);
    const again = await boot(first.flash); // plugged back in: the same flash chip, a new pty
    expect(holds(again, part)).toBe(false);
    await flashEsp({ port: again.serial, chip: 'esp32', parts: [part], ...ROM_ONLY });
    expect(holds(again, part)).toBe(true);
  }, 120_000);

  it('makerdeck flash --no-stub writes a merged image through the CLI; without it the stub failure is one line', async () => {
    const esp = await boot();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-esp32-cli-'));
    try {
      const image = fakeEsp32Merged(64 * 1024);
      const file = path.join(dir, 'merged.bin');
      writeFileSync(file, image);
      const refused = await runCli(
        ['flash', '--port', esp.serial, '--board', 'esp32', file],
        {},
        { timeoutMs: 90_000 },
      );
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain(`flasher stub did not start`);
      expect(refused.stderr.trim().split('\n').at(-1)).toMatch(/the ROM loader did not answer after it: hold BOOT/);
      await esp.reset();
      const result = await runCli(
        ['flash', '--port', esp.serial, '--board', 'esp32', '--no-stub', file, '--json'],
        {},
        { timeoutMs: 90_000 },
      );
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        board: 'esp32',
        bytes: image.length,
        verified: true,
        loader: 'rom',
      });
      expect(holds(esp, { address: 0, data: image })).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
