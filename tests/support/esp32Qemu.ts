// The emulated ESP32 (Espressif's QEMU machine running the real ESP32 mask ROM in download mode) for
// the tests: booted with the rig's boot.sh, reset through QEMU's monitor, stopped by its PID. The
// runner (scripts/test.js) builds it and passes its paths; without them these tests fail, never skip.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SerialPort } from 'serialport';
import { startEsp32 } from '../../scripts/rig/esp32Qemu.js';
import { openSerialPort } from '../../electron/core/serial/openPort';
import type { PortOpener } from '../../electron/core/serial/webSerialPort';
import { espStubFromJson, type EspStub } from '../../electron/core/firmware/esp/espFlasher';

export type EmulatedEsp32 = Awaited<ReturnType<typeof startEsp32>>;

/** The rig's paths from the runner; throws naming what is missing. */
export function esp32Rig(): { qemu: string; rigDir: string; esptoolPython: string; legacyStubFile: string } {
  const missing = process.env.MAKERDECK_ESP32_QEMU_MISSING;
  if (missing) throw new Error(`the emulated ESP32 rig is missing: ${missing}`);
  const get = (name: string) => {
    const value = process.env[name];
    if (!value)
      throw new Error(
        `${name} is not set, so the emulated ESP32 (QEMU + real ROM) is not there: run the tests with \`npm test\`, which builds it from the rig folder (MAKERDECK_ESP32_QEMU_RIG)`,
      );
    return value;
  };
  return {
    qemu: get('MAKERDECK_ESP32_QEMU'),
    rigDir: get('MAKERDECK_ESP32_QEMU_RIG'),
    esptoolPython: get('MAKERDECK_ESPTOOL_PYTHON'),
    legacyStubFile: get('MAKERDECK_ESPTOOL_LEGACY_STUB'),
  };
}

/** esptool 4.8.1's ESP32 flasher stub (legacy stub 1.3.0), read from the rig's venv: it runs on this emulator. */
export function legacyStub(): EspStub {
  return espStubFromJson(JSON.parse(readFileSync(esp32Rig().legacyStubFile, 'utf8')));
}

/** Boots a fresh chip with an all-0xff 4 MiB flash file (or `flash`, kept from an earlier chip). */
export async function bootEsp32(flash?: string): Promise<EmulatedEsp32 & { dispose(): Promise<void> }> {
  const { qemu, rigDir } = esp32Rig();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-esp32-'));
  const esp = await startEsp32({ qemu, rigDir, dir, ...(flash ? { flash } : {}) });
  return {
    ...esp,
    dispose: async () => {
      await esp.stop();
      if (!flash) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `length` bytes of the chip's flash file at `address`. */
export function flashAt(esp: EmulatedEsp32, address: number, length: number): Buffer {
  return readFileSync(esp.flash).subarray(address, address + length);
}

/** Random bytes: they do not compress, so every byte crosses the wire. */
export const randomImage = (bytes: number): Uint8Array => new Uint8Array(randomBytes(bytes));

/**
 * STAND-IN for a dev board's auto-reset circuit (two transistors from DTR/RTS to EN/IO0), which a pty
 * lacks: EN is low while RTS is on and DTR off; when EN rises the chip restarts. QEMU's strapping pins
 * hold download mode, so every such restart lands in the ROM loader (a real board boots the app when
 * IO0 is high). The chip and its ROM stay real; only the two wires are modelled.
 */
export function resetCircuit(esp: EmulatedEsp32): { open: PortOpener; resets: () => number } {
  let resets = 0;
  const open: PortOpener = async (portPath, baudRate) => {
    const port = await openSerialPort(portPath, baudRate);
    let lines = { dtr: true, rts: true }; // Linux raises both when a port opens
    const enHigh = (l: typeof lines) => !(l.rts && !l.dtr);
    const set = (options: { dtr?: boolean; rts?: boolean }, callback?: (error: Error | null) => void) => {
      const wasHigh = enHigh(lines);
      lines = { dtr: options.dtr ?? true, rts: options.rts ?? true }; // serialport's defaults
      const restart = !wasHigh && enHigh(lines) ? esp.reset().then(() => void resets++) : Promise.resolve();
      restart.then(
        () => callback?.(null),
        (error: Error) => callback?.(error),
      );
    };
    Object.assign(port as SerialPort, { set });
    return port;
  };
  return { open, resets: () => resets };
}
