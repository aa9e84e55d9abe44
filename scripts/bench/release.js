// npm run bench:release — "build once, release per device" against the peer way, for BOARDS emulated
// Unos (one emulated Uno flashed once per board: simavr + the real optiboot). Makerdeck: one build
// (its image cache emptied first, so it really compiles once) and BOARDS `makerdeck flash --profile`
// releases, each stamping its profile into the cached build. The peer: per board, a config.h with the
// profile's values in a copy of the same sketch, `arduino-cli compile` (the rig's, same core cache,
// one warm build path) and `avrdude` upload. Both end to end, medians over BENCH_RUNS rounds, and
// their ratio, and where each one's time goes. Then the stamp alone (median µs per image: the Uno HEX
// and a 1 MiB ESP32 app image, goal ≤ 50 ms) against a cached compile — arduino-cli with every cache
// warm, the peer's per-board compile (goal: stamp ≤ 5% of it) — and against Makerdeck's build-cache hit.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';
import { ensureArduinoRig } from '../rig/arduino.js';
import { startEmulatedUno } from '../rig/uno.js';
import { startSecretService } from '../services/keyring.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BOARDS = Number(process.env.BENCH_BOARDS ?? 5);
const STAMPS = 51;
const load = async (/** @type {string} */ file) => (await runnerImport(path.join(root, file))).module;
const { stampRelease } = /** @type {typeof import('../../electron/core/firmware/release/stampRelease')} */ (
  await load('electron/core/firmware/release/stampRelease.ts')
);
const { encodeConfigBlock } = /** @type {typeof import('../../electron/core/firmware/release/configBlock')} */ (
  await load('electron/core/firmware/release/configBlock.ts')
);

/** @type {(values: number[]) => number} */
const median = (values) => /** @type {number} */ ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);
const seconds = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(2)} s`;

/**
 * Runs a program to its end; resolves its stdout, rejects with the tail of its output otherwise.
 * `marks` gets each stderr line (Makerdeck's progress phases) with the ms since the start.
 * @param {string} command @param {string[]} args @param {NodeJS.ProcessEnv} env
 * @param {Array<{ ms: number, line: string }>} [marks]
 * @returns {Promise<string>}
 */
function run(command, args, env, input = '', marks = []) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('timeout', ['300', command, ...args], { env: { ...process.env, ...env } });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      for (const line of String(d).split('\n').filter(Boolean)) marks.push({ ms: performance.now() - started, line });
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${path.basename(args[0] ?? command)} exited ${code}: ${(stderr || stdout).slice(-400)}`)),
    );
    child.stdin.end(input);
  });
}

const makerdeck = (
  /** @type {string[]} */ args,
  /** @type {NodeJS.ProcessEnv} */ env,
  input = '',
  /** @type {Array<{ ms: number, line: string }>} */ marks = [],
) => run(process.execPath, [path.join(root, 'bin', 'makerdeck.js'), ...args], env, input, marks);

/** @param {number} board */
const boardValues = (board) => ({
  deviceId: `bench-release-${board}`,
  wifiSsid: 'makerspace',
  wifiPassword: `bench-wifi-${board}-Xq4`,
  mqttHost: 'broker.lan',
  mqttPort: 1883,
  mqttTls: false,
  mqttUsername: `makerdeck-dev-bench-release-${board}`,
  mqttPassword: `bench-mqtt-${board}-Lw8`,
  intervalS: 10,
});

/** The peer's sketch for one board: the same firmware with a config.h of the board's values included. */
function peerSketch(/** @type {string} */ dir, /** @type {number} */ board) {
  const sketch = path.join(dir, 'peer', 'firmware');
  rmSync(sketch, { recursive: true, force: true });
  mkdirSync(sketch, { recursive: true });
  for (const name of readdirSync(path.join(root, 'firmware')))
    // Sources only, as Makerdeck copies them: sketch.yaml's default profile would fetch platforms.
    if (/\.(ino|h|cpp)$/.test(name)) cpSync(path.join(root, 'firmware', name), path.join(sketch, name));
  const values = boardValues(board);
  const defines = Object.entries(values).map(([key, value]) => `#define CFG_${key} ${JSON.stringify(value)}`);
  writeFileSync(path.join(sketch, 'config.h'), `#pragma once\n${defines.join('\n')}\n`);
  writeFileSync(path.join(sketch, 'makerdeck_build.h'), '#pragma once\n#define MAKERDECK_BUILD_HASH "peer"\n');
  const ino = path.join(sketch, 'firmware.ino');
  writeFileSync(ino, `#include "config.h"\nconst char *peerDevice = CFG_deviceId;\n${readFileSync(ino, 'utf8')}`);
  return sketch;
}

/** A 1 MiB ESP32 app image (esptool's format) with a blank config block in its rodata. */
function espAppImage() {
  const blank = Buffer.alloc(400);
  blank.write('MAKERDECK:CONFIG', 'latin1');
  blank.writeUInt16LE(1, 16);
  blank.writeUInt16LE(400, 18);
  const filler = (/** @type {number} */ n, /** @type {number} */ seed) =>
    Buffer.from(Uint8Array.from({ length: n }, (_, i) => ((i * 2654435761 + seed) >>> 24) & 0xff));
  const rodata = filler(256 * 1024, 3);
  blank.copy(rodata, 0x9321);
  const segments = [
    [0x3f400020, rodata],
    [0x400d0020, filler(1024 * 1024 - 256 * 1024 - 128, 9)],
  ];
  const header = Buffer.alloc(24);
  header[0] = 0xe9;
  header[1] = segments.length;
  header.writeUInt32LE(0x400d0020, 4);
  header.writeUInt16LE(0xffff, 17);
  header[23] = 1; // SHA-256 appended
  let sum = 0xef;
  /** @type {Buffer[]} */
  const parts = [header];
  for (const [address, data] of /** @type {Array<[number, Buffer]>} */ (segments)) {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(address, 0);
    head.writeUInt32LE(data.length, 4);
    parts.push(head, data);
    for (const byte of data) sum ^= byte;
  }
  const length = parts.reduce((n, p) => n + p.length, 0);
  parts.push(Buffer.alloc(15 - (length % 16)), Buffer.of(sum));
  const image = Buffer.concat(parts);
  return Buffer.concat([image, createHash('sha256').update(image).digest()]);
}

/** Median µs of one stamp (locate, copy, write, checksum and hash) of `image`. */
function stampMicros(/** @type {{ format: 'hex' | 'bin', data: Buffer }} */ image, /** @type {any} */ board) {
  const block = encodeConfigBlock(boardValues(1));
  const times = [];
  for (let i = 0; i < STAMPS; i++) {
    const started = performance.now();
    stampRelease(image, board, block);
    times.push((performance.now() - started) * 1000);
  }
  return median(times);
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bench-release-'));
  const keyring = await startSecretService({ dir: path.join(dir, 'keyring') });
  const uno = await startEmulatedUno({ dir: path.join(dir, 'uno') });
  try {
    const rig = await ensureArduinoRig({ log: () => {} });
    const env = {
      ...keyring.env,
      ...uno.env,
      MAKERDECK_DATA_DIR: path.join(dir, 'data'),
      MAKERDECK_CACHE_DIR: path.join(dir, 'cache'),
      MAKERDECK_ARDUINO_CLI: rig.arduinoCli,
      MAKERDECK_ARDUINO_CLI_CONFIG: rig.configFile,
    };
    for (let board = 1; board <= BOARDS; board++) {
      const v = boardValues(board);
      const fields = ['--board', 'arduino:avr:uno', '--ssid', v.wifiSsid, '--mqtt-host', v.mqttHost];
      fields.push('--mqtt-user', v.mqttUsername, '--device-id', v.deviceId, '--wifi-password', '--mqtt-password');
      await makerdeck(['profile', 'set', `Bench ${board}`, ...fields], env, `${v.wifiPassword}\n${v.mqttPassword}\n`);
    }
    const peerBuild = path.join(dir, 'peer-build');
    const peerCompile = async (/** @type {number} */ board) => {
      const out = path.join(dir, 'peer-out');
      const args = ['--config-file', rig.configFile, 'compile', '--fqbn', 'arduino:avr:uno', '--build-path', peerBuild];
      await run(rig.arduinoCli, [...args, '--output-dir', out, peerSketch(dir, board)], env);
      return path.join(out, 'firmware.ino.hex');
    };
    const avrdude = (/** @type {string} */ hex) =>
      run(
        'avrdude',
        ['-q', '-q', '-c', 'arduino', '-p', 'm328p', '-P', uno.pty, '-b', '115200', '-D', '-U', `flash:w:${hex}:i`],
        env,
      );
    // Untimed warm-up: both build paths hold the core and libraries, as on a machine in use.
    await peerCompile(0);
    await makerdeck(['compile', '--board', 'arduino:avr:uno', '--json'], env);

    console.log(`bench:release — ${BOARDS} Unos released, ${RUNS} rounds, medians (rig arduino-cli ${rig.version})`);
    const names = /** @type {const} */ (['ours', 'peer', 'first', 'cached', 'beforeLookup', 'ourFlash']);
    const all = /** @type {const} */ ([...names, 'peerCompile', 'avrdude', 'cachedCompile']);
    const series = /** @type {unknown} */ (Object.fromEntries(all.map((name) => [name, []])));
    const t = /** @type {Record<(typeof all)[number], number[]>} */ (series);
    const timed = async (/** @type {number[]} */ into, /** @type {() => Promise<any>} */ work) => {
      const started = performance.now();
      const result = await work();
      into.push(performance.now() - started);
      return result;
    };
    for (let round = 0; round < RUNS; round++) {
      rmSync(path.join(dir, 'cache', 'builds', 'images'), { recursive: true, force: true }); // one real build per round
      let started = performance.now();
      for (let board = 1; board <= BOARDS; board++) {
        const args = ['flash', '--profile', `bench-${board}`, '--port', uno.pty];
        /** @type {Array<{ ms: number, line: string }>} */
        const marks = [];
        const said = await timed(board === 1 ? t.first : t.cached, () => makerdeck(args, env, '', marks));
        if (/, cached\)/.test(said) !== board > 1) throw new Error(`release ${board}: ${said.trim()}`);
        const at = (/** @type {string} */ phase) => marks.find((m) => m.line.startsWith(phase))?.ms ?? NaN;
        t.beforeLookup.push(at('compile'));
        t.ourFlash.push(at('done') - at('connect'));
      }
      t.ours.push(performance.now() - started);
      started = performance.now();
      for (let board = 1; board <= BOARDS; board++) {
        const hex = await timed(t.peerCompile, () => peerCompile(board));
        await timed(t.avrdude, () => avrdude(hex));
      }
      t.peer.push(performance.now() - started);
      const compiled = JSON.parse(await makerdeck(['compile', '--board', 'arduino:avr:uno', '--json'], env));
      if (!compiled.cached) throw new Error('the compile after the releases was not a cache hit');
      t.cachedCompile.push(compiled.ms);
    }
    const [m, p] = [median(t.ours), median(t.peer)];
    console.log(`makerdeck (1 build + ${BOARDS} stamped releases)   ${seconds(m)}   ${seconds(m / BOARDS)} per board`);
    console.log(`peer (${BOARDS} × arduino-cli compile + avrdude)   ${seconds(p)}   ${seconds(p / BOARDS)} per board`);
    console.log(`ratio makerdeck / peer                        ${(m / p).toFixed(2)}`);
    console.log(`  makerdeck: first release (build + stamp + flash) ${seconds(median(t.first))}`);
    console.log(`             cached release (stamp + flash)         ${seconds(median(t.cached))}`);
    console.log(`             of which start-up, keychain, profile  ${seconds(median(t.beforeLookup))}`);
    console.log(`             of which connect, write, verify       ${seconds(median(t.ourFlash))}`);
    console.log(`  peer:      arduino-cli compile per board          ${seconds(median(t.peerCompile))}`);
    console.log(`             avrdude upload per board              ${seconds(median(t.avrdude))}`);

    const images = path.join(dir, 'cache', 'builds', 'images');
    const hexName = readdirSync(images).find((name) => name.endsWith('.hex'));
    if (!hexName) throw new Error('no cached Uno build');
    const hex = { format: /** @type {const} */ ('hex'), data: readFileSync(path.join(images, hexName)) };
    const esp = { format: /** @type {const} */ ('bin'), data: espAppImage() };
    const [hexUs, espUs] = [stampMicros(hex, 'uno'), stampMicros(esp, 'esp32')];
    const stampMs = Math.max(hexUs, espUs) / 1000;
    const lookupMs = median(t.cachedCompile);
    const compileMs = median(t.peerCompile);
    const kib = (/** @type {Buffer} */ b) => `${(b.length / 1024).toFixed(0)} KiB`;
    console.log(`stamp, Uno HEX (${kib(hex.data)})              ${hexUs.toFixed(0)} µs per image`);
    console.log(`stamp, ESP32 app image (${kib(esp.data)})     ${espUs.toFixed(0)} µs per image (goal ≤ 50 ms)`);
    const pct = (/** @type {number} */ ms) => `${((stampMs / ms) * 100).toFixed(2)} %`;
    console.log(
      `build-cache hit (makerdeck compile --json ms)  ${lookupMs.toFixed(0)} ms, stamp = ${pct(lookupMs)} of it`,
    );
    console.log(
      `cached arduino-cli compile (peer, per board)  ${compileMs.toFixed(0)} ms, stamp = ${pct(compileMs)} (goal ≤ 5 %)`,
    );
    process.exitCode = espUs <= 50_000 && stampMs <= 0.05 * compileMs ? 0 : 1;
  } finally {
    await uno.stop();
    await keyring.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench:release: ${error.message}`);
  process.exit(1);
});
