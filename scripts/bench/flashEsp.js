// npm run bench:flash-esp — Makerdeck's ESP flasher against PyPI's esptool 4.8.1 on the emulated ESP32
// (QEMU running the real ESP32 ROM, scripts/rig/esp32Qemu.js) at 115200 baud: 256 KB and 1 MB random
// images at 0x10000, ROM-only for both (`--no-stub`) and through the same flasher stub for both
// (esptool 4.8.1's legacy stub: the only one this emulator runs). Each run gets a freshly booted chip.
// Timed from the start of the flash to its end, MD5 verify included: Makerdeck's flashEsp() in this
// process, esptool as a process (its Python start-up, measured apart, is printed too). Medians and the
// Makerdeck/esptool ratio; the goal is a ratio of 1.0 or less. BENCH_RUNS (default 3) runs each.
// Makerdeck's CPU time (this process) is printed beside: the link, not the CPU, should be the limit.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';
import { buildEsp32Qemu, ensureEsptool, startEsp32 } from '../rig/esp32Qemu.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_SIZES_KB ?? '256,1024').split(',').map((kb) => Number(kb) * 1024);
const MODES = (process.env.BENCH_MODES ?? 'rom,stub').split(',');
const ADDRESS = 0x10000;
const GOAL = 1.0;

/** @typedef {typeof import('../../electron/core/firmware/esp/espFlasher')} EspFlasher */
const flasher = /** @type {EspFlasher} */ (
  (await runnerImport(path.join(root, 'electron/core/firmware/esp/espFlasher.ts'))).module
);

/** @param {number[]} values */
const median = (values) => /** @type {number} */ ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);

/**
 * Runs a command; resolves its wall time in ms, rejects with its output on failure.
 * @param {string} command
 * @param {string[]} args
 * @returns {Promise<number>}
 */
function timed(command, args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('timeout', ['300', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(new Error(`${path.basename(command)} exited ${code}: ${output.slice(-600)}`)),
    );
  });
}

/** Failed attempts per tool: the emulated ROM refuses a block now and then (esptool aborts then). */
const failures = { makerdeck: 0, esptool: 0 };

/**
 * One timed flash on a fresh chip, tried again (on another fresh chip) when it fails, up to 3 times;
 * undefined when all three failed.
 * @param {'makerdeck' | 'esptool'} tool
 * @param {() => Promise<number>} attempt
 * @returns {Promise<number | undefined>}
 */
async function measured(tool, attempt) {
  for (let tries = 1; tries <= 3; tries++) {
    try {
      return await attempt();
    } catch (error) {
      failures[tool]++;
      const message = /** @type {Error} */ (error).message;
      console.log(`  (${tool} failed: ${message.slice(message.lastIndexOf('\n', message.length - 2) + 1).trim()})`);
    }
  }
  return undefined;
}

/** @param {number[]} values */
const seconds = (values) => (values.length ? `${(median(values) / 1000).toFixed(2)} s` : 'no run');

/**
 * One flash on a freshly booted chip; checks the bytes landed.
 * @param {{ qemu: string, rigDir: string }} rig
 * @param {Uint8Array} image
 * @param {(serial: string) => Promise<number>} flash
 */
async function onFreshChip(rig, image, flash) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-esp-'));
  const esp = await startEsp32({ ...rig, dir });
  try {
    const ms = await flash(esp.serial);
    const written = readFileSync(esp.flash).subarray(ADDRESS, ADDRESS + image.length);
    if (!written.equals(Buffer.from(image))) throw new Error('the flash file does not hold the image');
    return ms;
  } finally {
    await esp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const rig = await buildEsp32Qemu();
  const esptool = await ensureEsptool();
  const stub = flasher.espStubFromJson(JSON.parse(readFileSync(esptool.legacyStub, 'utf8')));
  const startup = [];
  for (let run = 0; run < 3; run++) startup.push(await timed(esptool.python, ['-m', 'esptool', 'version']));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-esp-images-'));
  console.log(`bench:flash-esp — emulated ESP32 (QEMU, real ROM) at 115200 baud, ${RUNS} runs each, medians`);
  console.log(`esptool ${esptool.version}'s Python start-up alone: ${(median(startup) / 1000).toFixed(2)} s`);
  console.log('mode  size      makerdeck    esptool   ratio');
  try {
    for (const mode of MODES) {
      for (const size of SIZES) {
        const image = new Uint8Array(randomBytes(size));
        const file = path.join(dir, `random-${size}.bin`);
        writeFileSync(file, image);
        /** @type {number[]} */
        const makerdeck = [];
        /** @type {number[]} */
        const reference = [];
        /** @type {number[]} Makerdeck's CPU time (this process, user + system) per flash */
        const cpuMs = [];
        for (let run = 0; run < RUNS; run++) {
          const m = await measured('makerdeck', () =>
            onFreshChip(rig, image, async (serial) => {
              const cpuBefore = process.cpuUsage();
              const started = performance.now();
              await flasher.flashEsp({
                port: serial,
                chip: 'esp32',
                parts: [{ address: ADDRESS, data: image }],
                bauds: [115200],
                ...(mode === 'rom' ? { noStub: true } : { stub }),
              });
              const ms = performance.now() - started;
              const cpu = process.cpuUsage(cpuBefore);
              cpuMs.push((cpu.user + cpu.system) / 1000);
              return ms;
            }),
          );
          if (m !== undefined) makerdeck.push(m);
          const e = await measured('esptool', () =>
            onFreshChip(rig, image, (serial) =>
              timed(esptool.python, [
                '-m',
                'esptool',
                '--chip',
                'esp32',
                '--port',
                serial,
                '--baud',
                '115200',
                '--before',
                'no_reset',
                '--after',
                'no_reset',
                ...(mode === 'rom' ? ['--no-stub'] : []),
                'write_flash',
                '--flash_mode',
                'keep',
                '--flash_freq',
                'keep',
                '--flash_size',
                'keep',
                `0x${ADDRESS.toString(16)}`,
                file,
              ]),
            ),
          );
          if (e !== undefined) reference.push(e);
        }
        const ratio = makerdeck.length && reference.length ? median(makerdeck) / median(reference) : undefined;
        const verdict =
          ratio === undefined ? '—' : `${ratio.toFixed(2)}${ratio <= GOAL ? '' : '  (goal ≤ 1.0 missed)'}`;
        const runs = `(${makerdeck.length}/${reference.length} runs)`;
        const cpu = cpuMs.length ? `  cpu ${seconds(cpuMs)}` : '';
        console.log(
          `${mode.padEnd(5)} ${`${size / 1024} KB`.padEnd(8)} ${seconds(makerdeck).padStart(9)} ${seconds(reference).padStart(9)}   ${verdict} ${runs}${cpu}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `failed attempts (run again on a fresh chip): makerdeck ${failures.makerdeck}, esptool ${failures.esptool}`,
  );
}

main().catch((error) => {
  console.error(`bench:flash-esp: ${error.message}`);
  process.exit(1);
});
