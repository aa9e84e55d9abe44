// npm run bench:flash — flash 1 KB, 8 KB and 30 KB images into the emulated Uno (real optiboot in
// simavr) with Makerdeck and with avrdude, 5 times each; print medians and the Makerdeck/avrdude
// ratio. Both run as command-line programs with the rig's DTR shim, timed end to end.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulatedUno } from '../rig/uno.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZES = [1024, 8 * 1024, 30 * 1024];

/** @param {Uint8Array} data */
function hexOf(data) {
  const lines = [];
  for (let offset = 0; offset < data.length; offset += 16) {
    const chunk = data.subarray(offset, offset + 16);
    const bytes = [chunk.length, offset >> 8, offset & 0xff, 0, ...chunk];
    const sum = (0x100 - (bytes.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
    lines.push(
      ':' +
        [...bytes, sum]
          .map((b) => b.toString(16).padStart(2, '0'))
          .join('')
          .toUpperCase(),
    );
  }
  return lines.join('\n') + '\n:00000001FF\n';
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {Record<string, string>} env
 * @returns {Promise<number>}
 */
function timed(command, args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('timeout', ['60', command, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(new Error(`${path.basename(command)} exited ${code}: ${output.slice(-400)}`)),
    );
  });
}

/** @type {(values: number[]) => number} */
const median = (values) => /** @type {number} */ ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-flash-'));
  const uno = await startEmulatedUno({ dir });
  try {
    console.log(`bench:flash — emulated Uno (simavr + optiboot) at 115200 baud, ${RUNS} runs each, medians`);
    console.log('size     makerdeck   avrdude    ratio');
    for (const size of SIZES) {
      const data = Uint8Array.from({ length: size }, (_, i) => (i * 131 + 7) & 0xff);
      const file = path.join(dir, `image-${size}.hex`);
      writeFileSync(file, hexOf(data));
      const makerdeck = [];
      const avrdude = [];
      for (let run = 0; run < RUNS; run++) {
        makerdeck.push(
          await timed(
            process.execPath,
            [path.join(root, 'bin', 'makerdeck.js'), 'flash', '--port', uno.pty, '--board', 'uno', file, '--json'],
            uno.env,
          ),
        );
        avrdude.push(
          await timed(
            'avrdude',
            [
              '-q',
              '-q',
              '-c',
              'arduino',
              '-p',
              'm328p',
              '-P',
              uno.pty,
              '-b',
              '115200',
              '-D',
              '-U',
              `flash:w:${file}:i`,
            ],
            uno.env,
          ),
        );
      }
      const [m, a] = [median(makerdeck), median(avrdude)];
      console.log(
        `${String(size / 1024).padStart(2)} KB   ${(m / 1000).toFixed(2).padStart(7)} s  ${(a / 1000).toFixed(2).padStart(7)} s   ${(m / a).toFixed(2)}`,
      );
    }
  } finally {
    await uno.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench:flash: ${error.message}`);
  process.exit(1);
});
