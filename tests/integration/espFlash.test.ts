// ESP32 / ESP8266 flashing (esptool-js over the Web-Serial adapter) against the ROM-loader stand-in
// in tests/rig/esp: in-process over serialport's mock binding, and over a real pseudo-terminal with
// serialport's native binding. No real ESP is involved anywhere here.
import { getStubJsonByChipName } from 'esptool-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createHook } from 'node:async_hooks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli';
import { failure } from '../support/failure';
import { until } from '../support/wait';
import { SerialPort, SerialPortMock } from 'serialport';
import { WebSerialPort } from '../../electron/core/serial/webSerialPort';
import {
  espImageFromFile,
  flashEsp,
  type EspChip,
  type EspImagePart,
  type EspProgress,
  type FlashEspOptions,
  STUB_FALLBACK_TEXT,
} from '../../electron/core/firmware/esp/espFlasher';
import { EspRomStandIn, type StandInOptions } from '../rig/esp/espRomStandIn';
import { mockStandIn, type MockStandIn } from '../rig/esp/mockWire';
import { ptyStandIn, type PtyStandIn } from '../rig/esp/ptyWire';
import { OP } from '../rig/esp/standInChips';
import { fakeEsp32App, fakeEsp32Bootloader, fakeEsp32Merged, fakeEsp8266Image } from '../rig/esp/testImages';

const APP = 0x10000;

/**
 * Tracks the timers set from now until stopTracking() (esptool-js's sleeps and read timeouts among
 * them): pending() counts those that have neither fired nor been cleared.
 */
function timersSetBy() {
  const timers = new Set<number>();
  let tracking = true;
  const hook = createHook({
    init: (id, type) => void (tracking && type === 'Timeout' && timers.add(id)),
    destroy: (id) => void timers.delete(id),
  }).enable();
  return { stopTracking: () => (tracking = false), pending: () => timers.size, disable: () => hook.disable() };
}

function onMock(options: StandInOptions): { standIn: EspRomStandIn; wire: MockStandIn } {
  const standIn = new EspRomStandIn(options);
  return { standIn, wire: mockStandIn(standIn) };
}

function flashMock(wire: MockStandIn, chip: EspChip, parts: EspImagePart[], extra: Partial<FlashEspOptions> = {}) {
  return flashEsp({ port: wire.path, chip, parts, openPort: wire.openPort, listPorts: wire.listPorts, ...extra });
}

function holds(standIn: EspRomStandIn, part: EspImagePart): boolean {
  return Buffer.from(standIn.flash.subarray(part.address, part.address + part.data.length)).equals(
    Buffer.from(part.data),
  );
}

describe('ESP flashing against the ROM-loader stand-in over the mock binding', () => {
  it('flashes an ESP32 app through the stand-in: stub upload, compressed writes, MD5 verify, hard reset', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32' });
    const part = { address: APP, data: fakeEsp32App(300_000) };
    const progress: EspProgress[] = [];
    const result = await flashMock(wire, 'esp32', [part], { onProgress: (p) => progress.push(p) });

    expect(result).toMatchObject({
      chip: 'ESP32-D0WD-V3 (revision 3)',
      mac: standIn.macAddress,
      baud: 921600,
      failedBauds: [],
      bytes: part.data.length,
      hardReset: true,
      flashBytes: 4 * 1024 * 1024,
    });
    const stub = await getStubJsonByChipName('ESP32');
    expect(standIn.stubUploads).toEqual([
      {
        entry: stub!.entry,
        segments: [
          { address: stub!.text_start, bytes: stub!.decodedText.length },
          { address: stub!.data_start, bytes: stub!.decodedData.length },
        ],
      },
    ]);
    expect(standIn.count('FLASH_DEFL_DATA')).toBeGreaterThan(1);
    expect(standIn.count('FLASH_DATA')).toBe(0);
    expect(standIn.count('SPI_FLASH_MD5')).toBe(1);
    expect(standIn.count('SPI_ATTACH')).toBe(0); // the stub attaches the flash itself, as esptool relies on
    expect(standIn.count('SPI_SET_PARAMS')).toBe(1);
    expect(standIn.baudChanges).toEqual([921600]);
    expect(holds(standIn, part)).toBe(true);
    expect(standIn.boots).toEqual(['app', 'download', 'app']); // powered on, reset into the ROM, hard reset into the app
    expect(standIn.state).toBe('app');
    const line = (dtr: boolean, rts: boolean) => ({ dtr, rts });
    // esptool's classic reset (EN low; IO0 low as EN rises; release), then the hard reset (EN pulse), then the close.
    expect(standIn.lineLog).toEqual([
      line(true, true),
      line(false, true),
      line(true, false),
      line(false, false),
      line(false, true),
      line(false, false),
      line(false, false),
    ]);

    expect(progress.map((p) => p.phase).filter((phase, i, all) => phase !== all[i - 1])).toEqual([
      'connect',
      'write',
      'verify',
      'reset',
    ]);
    expect(progress.every((p, i) => i === 0 || p.bytesDone >= progress[i - 1]!.bytesDone)).toBe(true);
    expect(progress.at(-1)).toEqual({
      phase: 'reset',
      bytesDone: part.data.length,
      bytesTotal: part.data.length,
      baud: 921600,
    });
    expect(progress.find((p) => p.phase === 'write' && p.bytesDone > 0)?.baud).toBe(921600);
  });

  it('flashes bootloader, partition table and app as separate parts through the stand-in, each verified', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32' });
    const parts = [
      { address: APP, data: fakeEsp32App(120_001) }, // odd length: esptool pads to 4 bytes with 0xFF
      { address: 0x1000, data: fakeEsp32Bootloader(20_000) },
      { address: 0x8000, data: new Uint8Array(3072).fill(0xaa) },
    ];
    const result = await flashMock(wire, 'esp32', parts);
    expect(result.bytes).toBe(120_001 + 20_000 + 3072);
    expect(parts.every((part) => holds(standIn, part))).toBe(true);
    expect(standIn.count('FLASH_DEFL_BEGIN')).toBe(3);
    expect(standIn.count('SPI_FLASH_MD5')).toBe(3);
  });

  it('flashes an ESP8266 through the stand-in and reads its 1 MB flash size right', async () => {
    const { standIn, wire } = onMock({ chip: 'esp8266', flashBytes: 1024 * 1024 });
    const part = espImageFromFile(fakeEsp8266Image(400_000), 'esp8266');
    const result = await flashMock(wire, 'esp8266', [part]);
    expect(result).toMatchObject({
      chip: 'ESP8266EX',
      mac: standIn.macAddress,
      hardReset: true,
      flashBytes: 1024 * 1024,
    });
    expect(part.address).toBe(0);
    expect(holds(standIn, part)).toBe(true);
    expect(standIn.stubUploads[0]?.entry).toBe((await getStubJsonByChipName('ESP8266'))!.entry);
  });

  it('falls back to 460800 when the stand-in garbles 921600, and says so', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', faults: { refuseBauds: [921600] } });
    const part = { address: APP, data: fakeEsp32App(100_000) };
    const lines: string[] = [];
    const result = await flashMock(wire, 'esp32', [part], { log: (line) => lines.push(line) });
    expect(result).toMatchObject({ baud: 460800, failedBauds: [921600] });
    expect(lines).toContain(`921600 baud did not work on ${wire.path}; trying 460800`);
    expect(standIn.baudChanges).toEqual([921600, 460800]);
    expect(standIn.boots).toEqual(['app', 'download', 'download', 'app']);
    expect(holds(standIn, part)).toBe(true);
  });

  it('ends at 115200 when the stand-in garbles both faster speeds', async () => {
    const { standIn, wire } = onMock({ chip: 'esp8266', faults: { refuseBauds: [921600, 460800] } });
    const part = { address: 0, data: fakeEsp8266Image(60_000) };
    const result = await flashMock(wire, 'esp8266', [part]);
    expect(result).toMatchObject({ baud: 115200, failedBauds: [921600, 460800] });
    expect(holds(standIn, part)).toBe(true);
  });

  it('stays at 115200 when the stand-in stub refuses CHANGE_BAUDRATE', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', faults: { unsupported: [OP.CHANGE_BAUDRATE] } });
    const part = { address: APP, data: fakeEsp32App(50_000) };
    const result = await flashMock(wire, 'esp32', [part]);
    expect(result).toMatchObject({ baud: 115200, failedBauds: [921600] });
    expect(standIn.boots).toEqual(['app', 'download', 'app']); // no second connection needed
    expect(holds(standIn, part)).toBe(true);
  });

  it('says which chip the stand-in is when it does not match (BAD_INPUT), and the port stays usable', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32' });
    const part = { address: APP, data: fakeEsp32App(40_000) };
    await failure(
      flashMock(wire, 'esp8266', [{ address: 0, data: fakeEsp8266Image(40_000) }]),
      'BAD_INPUT',
      /is an ESP32, not an ESP8266: pick the ESP32 board/,
    );
    await flashMock(wire, 'esp32', [part]);
    expect(holds(standIn, part)).toBe(true);
  });

  it('says no bootloader answered when the stand-in board has no auto-reset circuit, then flashes once BOOT+RESET is pressed', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', autoReset: false });
    const part = { address: APP, data: fakeEsp32App(40_000) };
    await failure(
      flashMock(wire, 'esp32', [part]),
      'UNAVAILABLE',
      new RegExp(`^No ESP bootloader answered on ${wire.path}: hold BOOT while pressing EN/RESET`),
    );
    standIn.pressBootAndReset();
    const result = await flashMock(wire, 'esp32', [part]);
    expect(holds(standIn, part)).toBe(true);
    expect(standIn.state).toBe('stub'); // without the circuit the hard reset cannot reach EN either
    expect(result.hardReset).toBe(true); // the adapter took the lines; whether the board listens it cannot know
  }, 60_000);

  it('reports a stand-in that stalls mid-write as TIMEOUT, then flashes again after the reset', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', faults: { stall: { writeBlocks: 2 } } });
    const part = { address: APP, data: fakeEsp32App(200_000) };
    await failure(
      flashMock(wire, 'esp32', [part]),
      'TIMEOUT',
      /stopped answering during the write at 0x1[0-9a-f]{4} \(\d+%\) at 921600 baud: check the USB cable/,
    );
    expect(holds(standIn, part)).toBe(false);
    await flashMock(wire, 'esp32', [part]);
    expect(holds(standIn, part)).toBe(true);
  }, 60_000);

  it('reports a wrong MD5 from the stand-in as a failed verify, then flashes again', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', faults: { wrongMd5: true } });
    const part = { address: APP, data: fakeEsp32App(80_000) };
    await failure(
      flashMock(wire, 'esp32', [part]),
      'UNAVAILABLE',
      new RegExp(`^Verify failed on ${wire.path} for the part at 0x10000: the flash holds other bytes`),
    );
    standIn.setFaults({});
    await flashMock(wire, 'esp32', [part]);
    expect(holds(standIn, part)).toBe(true);
  });

  it('reports the stand-in unplugged mid-write, says the port is gone, and flashes again once plugged back in', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', faults: { unplug: { writeBlocks: 3 } } });
    const part = { address: APP, data: fakeEsp32App(250_000) };
    const started = Date.now();
    await failure(
      flashMock(wire, 'esp32', [part]),
      'UNAVAILABLE',
      new RegExp(`^${wire.path} was unplugged during the write at 0x[0-9a-f]+ \\(\\d+%\\): plug the board back in`),
    );
    expect(Date.now() - started).toBeLessThan(2500); // noticed at once, not after esptool-js's timeouts
    await failure(flashMock(wire, 'esp32', [part]), 'NOT_FOUND', /does not exist: plug the board in/);
    wire.plugIn();
    await flashMock(wire, 'esp32', [part]);
    expect(holds(standIn, part)).toBe(true);
  });

  it('reports a command the stand-in does not support', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', faults: { unsupported: [OP.FLASH_DEFL_BEGIN] } });
    const part = { address: APP, data: fakeEsp32App(40_000) };
    await failure(
      flashMock(wire, 'esp32', [part]),
      'UNAVAILABLE',
      /bootloader on .* refused a command during the write as unsupported/,
    );
    standIn.setFaults({});
    await flashMock(wire, 'esp32', [part]);
    expect(holds(standIn, part)).toBe(true);
  });

  it('cancels mid-write against the stand-in: CANCELLED at once, port closed, and it flashes again', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32' });
    const part = { address: APP, data: fakeEsp32App(400_000) };
    const controller = new AbortController();
    let abortedAt = 0;
    const onProgress = (p: EspProgress) => {
      if (p.phase === 'write' && p.bytesDone > 0 && !controller.signal.aborted) {
        abortedAt = Date.now();
        controller.abort();
      }
    };
    await failure(
      flashMock(wire, 'esp32', [part], { signal: controller.signal, onProgress }),
      'CANCELLED',
      /^Flashing was cancelled/,
    );
    expect(Date.now() - abortedAt).toBeLessThan(2000);
    expect(holds(standIn, part)).toBe(false);
    await flashMock(wire, 'esp32', [part]); // the mock binding refuses to open a port that is still open
    expect(holds(standIn, part)).toBe(true);
  });

  it('cancels while connecting to the stand-in: nothing touches the port afterwards, and it flashes again', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32' });
    const part = { address: APP, data: fakeEsp32App(40_000) };
    const controller = new AbortController();
    const onProgress = (p: EspProgress) => p.phase === 'connect' && controller.abort();
    const timers = timersSetBy();
    await failure(
      flashMock(wire, 'esp32', [part], { signal: controller.signal, onProgress }),
      'CANCELLED',
      /cancelled/,
    );
    timers.stopTracking();
    const seen = { lines: standIn.lineLog.length, commands: standIn.commands.length };
    // esptool-js's abandoned connect loop sleeps between its resets: once every timer the flash set
    // has run (or was cleared), nothing it left behind can still reach the board.
    await until('every timer the cancelled flash set to have run', () => timers.pending() === 0, 10_000);
    timers.disable();
    expect({ lines: standIn.lineLog.length, commands: standIn.commands.length }).toEqual(seen);
    await flashMock(wire, 'esp32', [part]);
    expect(holds(standIn, part)).toBe(true);
  });

  it('refuses bad parts before touching the stand-in, and an image larger than its flash after reading the flash size', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', flashBytes: 1024 * 1024 });
    await failure(
      flashMock(wire, 'esp32', [{ address: 0x10100, data: new Uint8Array(16) }]),
      'BAD_INPUT',
      /not on a 4 KB flash sector boundary/,
    );
    await failure(
      flashMock(wire, 'esp32', [
        { address: 0x1000, data: new Uint8Array(0x8000) },
        { address: 0x8000, data: new Uint8Array(16) },
      ]),
      'BAD_INPUT',
      /overlap/,
    );
    await failure(
      flashMock(wire, 'esp32', [{ address: APP, data: new Uint8Array(16) }], { bauds: [] }),
      'BAD_INPUT',
      /Baud rates/,
    );
    expect(standIn.commands).toEqual([]);
    await failure(
      flashMock(wire, 'esp32', [{ address: APP, data: fakeEsp32App(1024 * 1024) }]),
      'BAD_INPUT',
      /ends at 0x110000 but the flash on .* holds 1 MB/,
    );
    expect(standIn.count('FLASH_DEFL_BEGIN')).toBe(0);
  });

  it('falls back to the ROM loader when the stand-in stub never says hello, and says so', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', faults: { silentStub: true } });
    const part = { address: APP, data: fakeEsp32App(30_001) };
    const lines: string[] = [];
    const progress: EspProgress[] = [];
    const result = await flashMock(wire, 'esp32', [part], {
      log: (line) => lines.push(line),
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ loader: 'rom', stubFailed: true, baud: 921600, failedBauds: [] });
    expect(lines.some((line) => line.startsWith(STUB_FALLBACK_TEXT))).toBe(true);
    expect(progress.filter((p) => p.notice)).toEqual([
      { phase: 'connect', bytesDone: 0, bytesTotal: part.data.length, notice: STUB_FALLBACK_TEXT },
    ]);
    expect(standIn.stubUploads).toHaveLength(1); // tried once, then the ROM's own commands
    expect(standIn.boots).toEqual(['app', 'download', 'download', 'app']); // reset out of the hung stub
    expect(standIn.count('SPI_ATTACH')).toBe(1); // the ROM reaches the flash only once told to
    expect(standIn.flashBegins).toEqual([{ by: 'rom', words: 4, blockSize: 0x400 }]); // esptool's ROM shape
    expect(standIn.count('FLASH_DATA')).toBe(30); // uncompressed, as esptool without the stub
    expect(standIn.count('FLASH_DEFL_DATA')).toBe(0);
    expect(standIn.count('FLASH_END')).toBe(0); // it would leave the ROM loader, as esptool knows
    expect(standIn.count('SPI_FLASH_MD5')).toBe(1); // answered in hex by the ROM
    expect(holds(standIn, part)).toBe(true);
  });

  it('flashes with the stand-in ROM loader only on request, never uploading a stub', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32' });
    const part = { address: 0x1000, data: fakeEsp32Bootloader(9_999) };
    const result = await flashMock(wire, 'esp32', [part], { noStub: true, bauds: [115200] });
    expect(result).toMatchObject({ loader: 'rom', stubFailed: false, baud: 115200 });
    expect(standIn.stubUploads).toEqual([]);
    expect(standIn.count('MEM_BEGIN')).toBe(0);
    expect(holds(standIn, part)).toBe(true);
  });

  it('resumes a ROM write at the sector of a block the stand-in ROM refused, and verifies the whole part', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32', faults: { garbleRomBlock: 9 } });
    const part = { address: APP, data: fakeEsp32App(20_000) };
    const lines: string[] = [];
    const result = await flashMock(wire, 'esp32', [part], { noStub: true, bauds: [115200], log: (l) => lines.push(l) });
    expect(result.loader).toBe('rom');
    expect(lines.filter((l) => l.startsWith('The ROM refused a block'))).toEqual([
      expect.stringMatching(/status 1,5\); resuming at 0x12000$/), // block 9 is in the sector at 0x12000
    ]);
    expect(standIn.flashBegins).toHaveLength(2);
    expect(standIn.count('SPI_FLASH_MD5')).toBe(1);
    expect(holds(standIn, part)).toBe(true);
  });

  it('refuses ROM-only for the stand-in ESP8266, and fails plainly when its stub never starts', async () => {
    const { standIn, wire } = onMock({ chip: 'esp8266', faults: { silentStub: true } });
    const part = { address: 0, data: fakeEsp8266Image(20_000) };
    await failure(
      flashMock(wire, 'esp8266', [part], { noStub: true }),
      'BAD_INPUT',
      /ESP8266's ROM loader cannot verify/,
    );
    expect(standIn.commands).toEqual([]);
    await failure(
      flashMock(wire, 'esp8266', [part]),
      'UNAVAILABLE',
      new RegExp(`^The flasher stub did not start on ${wire.path}, and the ESP8266's ROM loader cannot verify`),
    );
    standIn.setFaults({});
    await flashMock(wire, 'esp8266', [part]);
    expect(holds(standIn, part)).toBe(true);
  });

  it('is cancelled before it starts without opening the stand-in port', async () => {
    const { standIn, wire } = onMock({ chip: 'esp32' });
    await failure(
      flashMock(wire, 'esp32', [{ address: APP, data: fakeEsp32App(4096) }], { signal: AbortSignal.abort() }),
      'CANCELLED',
      /cancelled/,
    );
    expect(standIn.commands).toEqual([]);
  });
});

describe('ESP flashing against the ROM-loader stand-in over a real pseudo-terminal (native serialport binding)', () => {
  const relays: PtyStandIn[] = [];
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.close()));
  });

  async function onPty(options: Omit<StandInOptions, 'resetOnOpen' | 'autoReset'>) {
    const standIn = new EspRomStandIn({ ...options, resetOnOpen: true, autoReset: false });
    const relay = await ptyStandIn(standIn);
    relays.push(relay);
    return { standIn, relay };
  }

  it('flashes an ESP32 through the stand-in over a pty: stub, compressed writes, MD5 verify; no DTR/RTS so no hard reset', async () => {
    const { standIn, relay } = await onPty({ chip: 'esp32' });
    const part = { address: APP, data: fakeEsp32App(300_000) };
    const result = await flashEsp({ port: relay.path, chip: 'esp32', parts: [part] });
    expect(result).toMatchObject({
      chip: 'ESP32-D0WD-V3 (revision 3)',
      baud: 921600,
      failedBauds: [],
      hardReset: false,
    });
    expect(standIn.stubUploads).toHaveLength(1);
    expect(standIn.count('FLASH_DEFL_DATA')).toBeGreaterThan(1);
    expect(standIn.count('SPI_FLASH_MD5')).toBe(1);
    expect(holds(standIn, part)).toBe(true);
    expect(standIn.state).toBe('stub'); // the reset never reached the stand-in: the user presses RESET
  });

  it('falls back from 921600 over a pty when the stand-in garbles it (the baud read back from termios)', async () => {
    const { standIn, relay } = await onPty({ chip: 'esp8266', faults: { refuseBauds: [921600] } });
    const part = { address: 0, data: fakeEsp8266Image(120_000) };
    const result = await flashEsp({ port: relay.path, chip: 'esp8266', parts: [part] });
    expect(result).toMatchObject({ baud: 460800, failedBauds: [921600], flashBytes: 4 * 1024 * 1024 });
    expect(holds(standIn, part)).toBe(true);
  });

  it('reports the stand-in unplugged mid-write over a pty, then flashes on the re-plugged pty', async () => {
    const { standIn, relay } = await onPty({ chip: 'esp32', faults: { unplug: { writeBlocks: 2 } } });
    const part = { address: APP, data: fakeEsp32App(250_000) };
    await failure(
      flashEsp({ port: relay.path, chip: 'esp32', parts: [part] }),
      'UNAVAILABLE',
      new RegExp(`^${relay.path} was unplugged during the write`),
    );
    const replugged = await ptyStandIn(standIn);
    relays.push(replugged);
    await flashEsp({ port: replugged.path, chip: 'esp32', parts: [part] });
    expect(holds(standIn, part)).toBe(true);
  });

  it('reports a wrong MD5 from the stand-in over a pty, and cancels there too, leaving the pty reusable', async () => {
    const { standIn, relay } = await onPty({ chip: 'esp32', faults: { wrongMd5: true } });
    const part = { address: APP, data: fakeEsp32App(100_000) };
    await failure(flashEsp({ port: relay.path, chip: 'esp32', parts: [part] }), 'UNAVAILABLE', /^Verify failed/);
    standIn.setFaults({});
    const controller = new AbortController();
    const onProgress = (p: EspProgress) => p.phase === 'write' && p.bytesDone > 0 && controller.abort();
    await failure(
      flashEsp({ port: relay.path, chip: 'esp32', parts: [part], signal: controller.signal, onProgress }),
      'CANCELLED',
      /cancelled/,
    );
    await flashEsp({ port: relay.path, chip: 'esp32', parts: [part] });
    expect(holds(standIn, part)).toBe(true);
  });
});

describe('the Web-Serial adapter over the mock binding', () => {
  it('has streams only while open, round-trips bytes, re-creates its readable after a cancel', async () => {
    const path = '/dev/ttyEchoStandIn';
    SerialPortMock.binding.createPort(path, { echo: true, vendorId: '1A86', productId: '7523' });
    const open = (portPath: string, baudRate: number) =>
      new Promise<SerialPort>((resolve, reject) => {
        const port = new SerialPort(
          { path: portPath, baudRate, binding: SerialPortMock.binding } as ConstructorParameters<typeof SerialPort>[0],
          (error) => (error ? reject(error) : resolve(port)),
        );
      });
    const device = new WebSerialPort(path, { open, vendorId: '1A86', productId: '7523' });
    expect(device.getInfo()).toEqual({ usbVendorId: 0x1a86, usbProductId: 0x7523 });
    expect([device.readable, device.writable]).toEqual([null, null]);
    await device.open({ baudRate: 115200 });
    const writer = device.writable!.getWriter();
    await writer.write(new Uint8Array([1, 2, 3]));
    writer.releaseLock();
    const first = device.readable!;
    const reader = first.getReader();
    expect((await reader.read()).value).toEqual(new Uint8Array([1, 2, 3]));
    await reader.cancel();
    expect(device.readable).not.toBe(first);
    await device.setBaudRate(460800);
    await device.close();
    expect([device.readable, device.writable]).toEqual([null, null]);
    expect(device.isLost).toBe(false);
    await device.open({ baudRate: 115200 }); // reusable
    await device.close();
  });

  it('on a real pty, a second close waits for the first, so the port can be opened again at once', async () => {
    const relay = await ptyStandIn(new EspRomStandIn({ chip: 'esp32' }));
    try {
      const device = new WebSerialPort(relay.path);
      await device.open({ baudRate: 115200 });
      const order: string[] = [];
      await Promise.all([
        device.close().then(() => order.push('first')),
        device.close().then(() => order.push('second')),
      ]);
      expect(order).toEqual(['first', 'second']); // an early second close let a reopen find the port busy
      await device.open({ baudRate: 115200 });
      await device.close();
    } finally {
      await relay.close();
    }
  });

  it('sends DTR and RTS together, and reports the stand-in unplugged as lost', async () => {
    const standIn = new EspRomStandIn({ chip: 'esp32' });
    const wire = mockStandIn(standIn);
    const device = new WebSerialPort(wire.path, { open: wire.openPort });
    await device.open({ baudRate: 115200 });
    await device.setSignals({ dataTerminalReady: false }); // serialport alone would raise RTS here
    await device.setSignals({ requestToSend: false });
    expect(standIn.lineLog.slice(1)).toEqual([
      { dtr: false, rts: true },
      { dtr: false, rts: false },
    ]);
    expect(device.modemLines).toBe(true);
    const reader = device.readable!.getReader();
    standIn.unplug();
    await expect(device.lost).resolves.toBeInstanceOf(Error);
    await expect(reader.read()).rejects.toMatchObject({ name: 'NetworkError' });
    expect([device.isLost, device.readable]).toEqual([true, null]);
    await expect(device.setSignals({ requestToSend: true })).rejects.toMatchObject({ name: 'NetworkError' });
  });
});

describe('espImageFromFile', () => {
  it('puts an ESP32 app at 0x10000, a merged ESP32 image at 0x0 and an ESP8266 image at 0x0', () => {
    expect(espImageFromFile(fakeEsp32App(8192), 'esp32').address).toBe(0x10000);
    expect(espImageFromFile(fakeEsp32Merged(0x30000), 'esp32').address).toBe(0);
    expect(espImageFromFile(fakeEsp8266Image(8192), 'esp8266').address).toBe(0);
  });

  it('refuses what it cannot place safely', () => {
    const bootloader = fakeEsp32Bootloader(0x5000);
    const s3App = fakeEsp32App(8192);
    s3App[12] = 9;
    const cases: Array<[Uint8Array, EspChip, RegExp]> = [
      [new Uint8Array(0), 'esp32', /empty/],
      [bootloader, 'esp32', /looks like an ESP32 bootloader, not an app/],
      [s3App, 'esp32', /built for an ESP32-S3, not an ESP32/],
      [new Uint8Array(4096).fill(0x42), 'esp32', /not an ESP32 firmware image \(it starts with 0x42/],
      [fakeEsp32App(8192), 'esp8266', /built for an ESP32, not an ESP8266/],
    ];
    for (const [bytes, chip, message] of cases) {
      expect(() => espImageFromFile(bytes, chip)).toThrow(message);
    }
  });
});

describe('makerdeck flash --board esp32|esp8266 against the ROM-loader stand-in over a pty', () => {
  it('flashes a merged ESP32 .bin and an ESP8266 .bin through the CLI, contract and firmware service (stand-in)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-esp-cli-'));
    try {
      for (const [chip, image] of [
        ['esp32', fakeEsp32Merged(96 * 1024)],
        ['esp8266', fakeEsp8266Image(64 * 1024)],
      ] as const) {
        const standIn = new EspRomStandIn({ chip, resetOnOpen: true, autoReset: false });
        const relay = await ptyStandIn(standIn);
        try {
          const file = path.join(dir, `${chip}.bin`);
          writeFileSync(file, image);
          const result = await runCli(
            ['flash', '--port', relay.path, '--board', chip, file, '--json'],
            {},
            { timeoutMs: 60_000 },
          );
          expect(result.code, result.stdout + result.stderr).toBe(0);
          expect(JSON.parse(result.stdout)).toMatchObject({ board: chip, bytes: image.length, verified: true });
          expect(holds(standIn, { address: 0, data: image })).toBe(true);
        } finally {
          await relay.close();
        }
      }
      const hex = path.join(dir, 'app.hex');
      writeFileSync(hex, ':0100000042BD\n:00000001FF\n');
      const refused = await runCli(['flash', '--port', '/dev/null', '--board', 'esp32', hex]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/ESP32 firmware is flashed from a \.bin image, not Intel HEX/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
