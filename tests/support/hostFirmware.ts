// The firmware's own sketch (firmware.ino with its config, override, Improv and telemetry code) built
// for this computer with g++ and a small Arduino shim (tests/support/hostFirmware/): its Serial is a
// pty, its EEPROM a file, and — with `wifi` — a Wi-Fi stand-in that joins one network. Stamped like a
// release, it is driven by Makerdeck's real client over the real pty.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  encodeConfigBlock,
  locateConfigBlock,
  type ConfigValues,
} from '../../electron/core/firmware/release/configBlock';
import { repoRoot } from './env';

export const HOST_BUILD = 'host0000test0001';
const SOURCES = ['config_block.cpp', 'config_override.cpp', 'improv_serial.cpp', 'telemetry.cpp'];

/** Builds the sketch for the host; with `wifi`, the Wi-Fi stand-in is in and the chip says so. */
export function buildHostFirmware(dir: string, { wifi }: { wifi: boolean }): Buffer {
  const firmware = path.join(repoRoot, 'firmware');
  const shim = path.join(repoRoot, 'tests', 'support', 'hostFirmware');
  const output = path.join(dir, wifi ? 'host-wifi' : 'host-serial');
  execFileSync(
    'g++',
    [
      '-std=c++11',
      '-O1',
      '-Wall',
      '-Werror',
      `-DMAKERDECK_BUILD_HASH="${HOST_BUILD}"`,
      ...(wifi ? ['-DMAKERDECK_WIFI_STANDIN', '-DMAKERDECK_CHIP="ESP32 host stand-in"'] : []),
      `-I${shim}`,
      `-I${firmware}`,
      '-o',
      output,
      '-x',
      'c++',
      path.join(firmware, 'firmware.ino'),
      '-x',
      'none',
      ...SOURCES.map((file) => path.join(firmware, file)),
      path.join(shim, 'host.cpp'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return readFileSync(output);
}

/** A copy of the executable with a release's config block stamped in (as Makerdeck stamps an image). */
export function stampHostFirmware(
  binary: Buffer,
  file: string,
  values: ConfigValues,
  releaseStamp: Uint8Array,
): string {
  const stamped = Buffer.from(binary);
  stamped.set(encodeConfigBlock(values, releaseStamp), locateConfigBlock(binary));
  writeFileSync(file, stamped);
  chmodSync(file, 0o700);
  return file;
}

export interface HostBoard {
  pty: string;
  stop(): Promise<void>;
}

export interface HostBoardOptions {
  /** The file standing in for the board's EEPROM/NVS (kept across runs, as a board keeps it). */
  store: string;
  bootMs?: number;
  noise?: boolean;
  wifi?: { ssid: string; password: string };
}

/** Runs a (stamped) host build; resolves with its pty once it is there. */
export async function startHostBoard(executable: string, options: HostBoardOptions): Promise<HostBoard> {
  const child: ChildProcess = spawn(executable, [], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      HOST_STORE: options.store,
      ...(options.bootMs ? { HOST_BOOT_MS: String(options.bootMs) } : {}),
      ...(options.noise ? { HOST_NOISE: '1' } : {}),
      ...(options.wifi ? { HOST_WIFI_SSID: options.wifi.ssid, HOST_WIFI_PASSWORD: options.wifi.password } : {}),
    },
  });
  const pty = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the host board exited (${code}) before its pty was ready`)));
    child.stdout!.once('data', (d) => resolve(String(d).split('\n')[0]!.trim()));
  });
  return {
    pty,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL'); // by the PID we started
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
