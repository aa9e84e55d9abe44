// Emulated Arduino Uno for tests: simavr runs the real optiboot bootloader on an
// ATmega328P at 16 MHz (paced to real time) with its UART on a pseudo-terminal.
// A flasher (Makerdeck's STK500v1 code, or avrdude) flashes it over the pty,
// and the sketch's serial output comes back on the same pty. Opening the port
// resets the board into the bootloader (~1.4 s until the sketch starts), and
// with `env` from startEmulatedUno() (an LD_PRELOAD shim giving the pty fake
// modem lines) a DTR rise resets it too, exactly like a real Uno.
//
//   node scripts/rig/uno.js --self-test   builds, flashes with avrdude, reads
//                                         the sketch's lines, times 30 KB flashes
//
// Sources: tests/rig/uno/ (harness uno.c, shim ptyshim.c, Makefile, testapp.c).
// Plain JS, node built-ins only. Everything is stopped by the PID we started.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run } from '../services/proc.js';
import { defaultRigCache } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const UNO_RIG_SOURCE_DIR = path.join(ROOT, 'tests', 'rig', 'uno');
export const OPTIBOOT_SOURCE_DIR = '/usr/share/arduino/hardware/arduino/avr/bootloaders/optiboot';

/** Debian packages the rig needs (build + run + avrdude as the reference flasher). */
export const UNO_DEBIAN_PACKAGES = [
  'simavr',
  'libsimavr-dev',
  'libelf-dev',
  'gcc-avr',
  'avr-libc',
  'avrdude',
  'arduino-core-avr',
  'gcc',
  'libc6-dev',
  'make',
  'pkg-config',
];

const RIG_SOURCES = ['uno.c', 'ptyshim.c', 'testapp.c', 'Makefile'];
const OPTIBOOT_SOURCES = ['optiboot.c', 'boot.h', 'pin_defs.h', 'stk500.h', 'Makefile'];
// The harness reaches into simavr's structs: rebuild when these headers change.
const SIMAVR_HEADERS = ['sim_avr.h', 'avr_uart.h', 'avr_flash.h', 'sim_io.h'].map((h) =>
  path.join('/usr/include/simavr', h),
);

/** @param {string} what */
function missingPackagesError(what) {
  return new Error(
    `${what}; the Uno rig needs Debian packages: apt-get update && apt-get install -y --no-install-recommends ${UNO_DEBIAN_PACKAGES.join(' ')}`,
  );
}

/**
 * Build the harness, the shim, optiboot (from Debian's source) and the self-test
 * sketches into `cacheDir`/uno-<hash of every source>; reuses an earlier build
 * of the same sources.
 * @typedef {{ dir: string, harness: string, shim: string, optibootHex: string, testHex: string, test30kHex: string }} UnoRig
 * @returns {Promise<UnoRig>}
 */
export async function buildUnoRig({ cacheDir = defaultRigCache() } = {}) {
  const hash = createHash('sha256');
  const inputs = [
    ...RIG_SOURCES.map((f) => path.join(UNO_RIG_SOURCE_DIR, f)),
    ...OPTIBOOT_SOURCES.map((f) => path.join(OPTIBOOT_SOURCE_DIR, f)),
    ...SIMAVR_HEADERS,
  ];
  for (const file of inputs) {
    let data;
    try {
      data = await fsp.readFile(file);
    } catch {
      throw missingPackagesError(`${file} is missing`);
    }
    hash.update(file).update('\0').update(data).update('\0');
  }
  const dir = path.join(cacheDir, `uno-${hash.digest('hex').slice(0, 16)}`);
  const rig = {
    dir,
    harness: path.join(dir, 'uno-harness'),
    shim: path.join(dir, 'ptyshim.so'),
    optibootHex: path.join(dir, 'optiboot_atmega328.hex'),
    testHex: path.join(dir, 'telemetry.hex'),
    test30kHex: path.join(dir, 'telemetry-30k.hex'),
  };
  if (fs.existsSync(path.join(dir, '.complete'))) return rig;

  // Build in a private directory, then rename into place: concurrent builds
  // of the same sources cannot see each other's half-written files.
  await fsp.mkdir(cacheDir, { recursive: true });
  const tmp = await fsp.mkdtemp(`${dir}.tmp-`);
  try {
    let r;
    try {
      r = await run('make', ['-C', UNO_RIG_SOURCE_DIR, `OUT=${tmp}`, 'all']);
    } catch (err) {
      throw missingPackagesError(`cannot run make (${/** @type {Error} */ (err).message})`);
    }
    if (r.code !== 0) {
      throw new Error(`building the Uno rig failed (make exit ${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`);
    }
    await fsp.writeFile(path.join(tmp, '.complete'), `${new Date().toISOString()}\n`);
    try {
      await fsp.rename(tmp, dir);
    } catch (err) {
      if (!fs.existsSync(path.join(dir, '.complete'))) throw err; // someone else finished first otherwise
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  return rig;
}

/**
 * Start an emulated Uno. Opening `pty` resets it into optiboot; run clients with
 * `{ ...process.env, ...env }` to give them DTR/RTS on the pty (DTR rise = reset).
 * @param {{ cacheDir?: string, dir?: string, flashImage?: string, verbose?: boolean, harnessArgs?: string[] }} [opts]
 *   dir: where the `uno.pty` symlink goes (default: a new temp dir, removed by stop());
 *   flashImage: an application (.hex or .elf) preloaded into flash.
 * @returns {Promise<{ pty: string, device: string, pid: number, env: Record<string,string>, stop: () => Promise<void>,
 *   log: () => string, rig: UnoRig }>}
 */
export async function startEmulatedUno({
  cacheDir = defaultRigCache(),
  dir,
  flashImage,
  verbose = false,
  harnessArgs = [],
} = {}) {
  const rig = await buildUnoRig({ cacheDir });
  const ownDir = !dir;
  const linkDir = dir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'makerdeck-uno-')));
  await fsp.mkdir(linkDir, { recursive: true });
  const link = path.join(linkDir, 'uno.pty');
  const args = ['--firmware', rig.optibootHex, '--pty-link', link];
  if (flashImage) args.push('--flash-image', flashImage);
  if (verbose) args.push('-v');
  args.push(...harnessArgs);

  const child = spawn(rig.harness, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-65536);
  });
  // Settles on exit, or on a spawn error (then no 'exit' event comes).
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  // Never leave the harness behind if our process ends without stop().
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); // it removes its link itself
  };
  process.on('exit', onExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) {
      await exited;
      return;
    }
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // by the PID we started, never by name
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    process.off('exit', onExit);
    if (ownDir) await fsp.rm(linkDir, { recursive: true, force: true });
    else await fsp.rm(link, { force: true }).catch(() => {});
  };

  try {
    await /** @type {Promise<void>} */ (
      new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`uno-harness not ready after 10 s:\n${stderr}`)), 10_000);
        exited.then(({ code, signal, error }) => {
          clearTimeout(timer);
          reject(error ?? new Error(`uno-harness exited (${code ?? signal}) before it was ready:\n${stderr}`));
        });
        child.stdout.on('data', (d) => {
          out += d;
          if (/^ready .+\n/m.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
      })
    );
  } catch (err) {
    await stop();
    throw err;
  }
  child.stdout.resume();
  const env = {
    LD_PRELOAD: [rig.shim, process.env.LD_PRELOAD].filter(Boolean).join(':'),
    MAKERDECK_UNO_HARNESS_PID: String(child.pid),
  };
  const pid = /** @type {number} */ (child.pid); // it printed "ready", so it was spawned
  return { pty: link, device: fs.realpathSync(link), pid, env, stop, log: () => stderr, rig };
}

// --------------------------------------------------------------- self-test

/**
 * Open the pty (which resets the board) and collect what arrives for `ms`;
 * optionally write `send` after `sendAfterMs`, and stop early once `until(data)`.
 * Resolves { text, firstByteMs, chunks: [{ t, data, sent? }] }.
 *
 * Reads a non-blocking fd every millisecond on purpose: node's tty.ReadStream
 * (libuv) reopens a pty slave and dup2()s it over the fd it was given, then
 * closes only its own copy, so the port would stay open after destroy() and
 * the next open would not reset the board.
 * @param {string} pty
 * @param {{ ms?: number, send?: Buffer, sendAfterMs?: number, until?: (data: Buffer) => boolean }} [opts]
 * @returns {Promise<{ text: string, firstByteMs: number | null, chunks: PtyChunk[] }>}
 */
export function readPty(pty, { ms = 4000, send, sendAfterMs = 0, until } = {}) {
  return new Promise((resolve, reject) => {
    let fd;
    try {
      fd = fs.openSync(pty, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    } catch (err) {
      reject(err);
      return;
    }
    const t0 = performance.now();
    /** @type {PtyChunk[]} */
    const chunks = [];
    const buf = Buffer.alloc(4096);
    const all = () => Buffer.concat(chunks.map((c) => c.data));
    let sent = !send;
    const tick = () => {
      const t = performance.now() - t0;
      if (!sent && t >= sendAfterMs) {
        sent = true;
        chunks.push({ t, data: Buffer.alloc(0), sent: true });
        fs.writeSync(fd, /** @type {Buffer} */ (send));
      }
      for (;;) {
        let n = 0;
        try {
          n = fs.readSync(fd, buf, 0, buf.length, null);
        } catch (err) {
          if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EAGAIN') throw err;
        }
        if (n <= 0) break;
        chunks.push({ t: performance.now() - t0, data: Buffer.from(buf.subarray(0, n)) });
      }
      if (t >= ms || (until && until(all()))) {
        fs.closeSync(fd);
        resolve({ text: all().toString('latin1'), firstByteMs: chunks.find((c) => !c.sent)?.t ?? null, chunks });
        return;
      }
      setTimeout(tick, 1);
    };
    try {
      tick();
    } catch (err) {
      fs.closeSync(fd);
      reject(err);
    }
  });
}

/** @typedef {{ t: number, data: Buffer, sent?: boolean }} PtyChunk */

/**
 * @param {string} pty
 * @param {string} hex
 * @param {NodeJS.ProcessEnv} env
 */
async function avrdude(pty, hex, env) {
  const args = [
    '30',
    'avrdude',
    '-c',
    'arduino',
    '-p',
    'm328p',
    '-P',
    pty,
    '-b',
    '115200',
    '-D',
    '-U',
    `flash:w:${hex}:i`,
  ];
  const r = await run('timeout', args, { env });
  const text = r.stdout + r.stderr;
  const bar = (/** @type {string} */ label) => {
    const m = text.match(new RegExp(`${label} \\|[ #]*\\| 100% ([0-9.]+)s`));
    return m ? Number(m[1]) : null;
  };
  const written = text.match(/(\d+) bytes of flash written/);
  const verified = text.match(/(\d+) bytes of flash verified/);
  return {
    ok: r.code === 0 && !!written && !!verified,
    code: r.code,
    wallS: r.ms / 1000,
    writeS: bar('Writing'),
    verifyS: bar('Reading'),
    bytes: verified ? Number(verified[1]) : null,
    text,
  };
}

async function selfTest() {
  const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
  const results = [];
  let failed = 0;
  /** @type {(name: string, ok: boolean, detail?: string) => void} */
  const check = (name, ok, detail = '') => {
    results.push({ name, ok, detail });
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  };
  const which = await run('sh', ['-c', 'command -v avrdude']);
  if (which.code !== 0) throw missingPackagesError('avrdude is not installed');

  const t = performance.now();
  const rig = await buildUnoRig();
  console.log(`rig built/cached in ${((performance.now() - t) / 1000).toFixed(1)} s: ${rig.dir}`);
  const uno = await startEmulatedUno({ verbose: true });
  console.log(`emulated Uno: pid ${uno.pid}, ${uno.pty} -> ${uno.device}`);
  const lineRe = /telemetry,device=uno-test counter=(\d+)i,pad=(\d+)i/g;
  try {
    // 1. Blank board: power-on goes to the (empty) application; flash the
    //    sketch with avrdude through the shim (its DTR pulse resets the board).
    const shimEnv = { ...process.env, ...uno.env };
    let r = await avrdude(uno.pty, rig.testHex, shimEnv);
    check(
      'avrdude write+verify with DTR shim',
      r.ok,
      `exit ${r.code}, ${r.bytes} bytes, write ${r.writeS}s, verify ${r.verifyS}s, wall ${r.wallS.toFixed(2)}s`,
    );
    if (!r.ok) console.log(r.text);
    const dtrResets = (uno.log().match(/reset \(DTR\)/g) ?? []).length;
    check(
      "the shim turned avrdude's DTR pulse into a reset",
      dtrResets >= 1,
      `${dtrResets} DTR reset(s) in the harness log`,
    );

    // 2. Open the port: reset -> bootloader window -> sketch prints lines.
    let p = await readPty(uno.pty, { ms: 3000 });
    let lines = [...p.text.matchAll(lineRe)];
    check(
      'sketch output on the pty after open-reset',
      lines.length >= 4 && lines[0]?.[1] === '0',
      `${lines.length} lines in 3 s, first byte ${p.firstByteMs?.toFixed(0)} ms after open (reset + optiboot window), first: ${JSON.stringify(lines[0]?.[0])}`,
    );

    // 3. Same without the shim: avrdude's TIOCM* ioctls fail (ENOTTY), the open alone resets.
    r = await avrdude(uno.pty, rig.testHex, process.env);
    check(
      'avrdude write+verify without shim (open-reset only)',
      r.ok,
      `exit ${r.code}, ${r.bytes} bytes, wall ${r.wallS.toFixed(2)}s${/TIOCM/.test(r.text) ? ', avrdude logged the TIOCM* ENOTTY errors' : ''}`,
    );
    if (!r.ok) console.log(r.text);

    // 4. How fast optiboot answers STK_GET_SYNC, sent (a) right at open: the
    //    chip is still in reset (65 ms start-up delay), the bytes are lost as on
    //    a real Uno; (b) 100 ms after open, during optiboot's LED flashes (it
    //    reads the UART only after them); (c) 600 ms after open, optiboot idle.
    const sync = Buffer.from([0x30, 0x20]);
    const insync = (/** @type {Buffer} */ b) => b.includes(Buffer.from([0x14, 0x10]));
    /** @param {{ chunks: PtyChunk[] }} res */
    const replyAt = (res) => {
      const sent = res.chunks.find((c) => c.sent);
      const reply = res.chunks.find((c) => !c.sent && c.data.length);
      return sent &&
        reply &&
        insync(
          res.chunks
            .filter((c) => !c.sent)
            .map((c) => c.data)
            .reduce((a, b) => Buffer.concat([a, b]), Buffer.alloc(0)),
        )
        ? reply.t - sent.t
        : null;
    };
    const probe = async (/** @type {number} */ after) => {
      const res = await readPty(uno.pty, { ms: 1200, send: sync, sendAfterMs: after, until: insync });
      await new Promise((res2) => setTimeout(res2, 100));
      return replyAt(res);
    };
    const [at0, at100, at600] = [await probe(0), await probe(100), await probe(600)];
    check(
      'optiboot answers STK_GET_SYNC like a real Uno',
      at0 === null && at100 !== null && at600 !== null,
      `sent at open: ${at0 === null ? 'lost (chip in reset)' : `reply after ${at0.toFixed(0)} ms`}; ` +
        `at +100 ms: reply after ${at100?.toFixed(0)} ms (LED flashes); at +600 ms: reply after ${at600?.toFixed(1)} ms`,
    );
    // let the bootloader time out into the sketch before the next flash
    await new Promise((res) => setTimeout(res, 1500));

    // 5. ~30 KB image, write+verify timed, several runs.
    const size = (await fsp.readFile(rig.test30kHex, 'latin1'))
      .split('\n')
      .reduce((n, l) => (l.slice(7, 9) === '00' ? n + parseInt(l.slice(1, 3), 16) : n), 0);
    const times = [];
    for (let i = 1; i <= runs; i++) {
      r = await avrdude(uno.pty, rig.test30kHex, shimEnv);
      times.push(r);
      check(
        `30 KB flash run ${i}/${runs}`,
        r.ok && r.bytes === size,
        `${r.bytes} bytes, write ${r.writeS}s + verify ${r.verifyS}s = ${(Number(r.writeS) + Number(r.verifyS)).toFixed(2)}s, avrdude wall ${r.wallS.toFixed(2)}s`,
      );
      if (!r.ok) console.log(r.text);
    }
    p = await readPty(uno.pty, { ms: 2500 });
    lines = [...p.text.matchAll(lineRe)];
    check(
      '30 KB sketch runs (its PROGMEM table is readable)',
      lines.length >= 2 && lines.some((m) => m[2] !== '0'),
      `${lines.length} lines, e.g. ${JSON.stringify(lines[1]?.[0])}`,
    );

    const ok = times.filter((x) => x.ok);
    if (ok.length) {
      const sum = ok.map((x) => Number(x.writeS) + Number(x.verifyS));
      console.log(
        `\n30 KB (${size} bytes) write+verify: ${sum.map((s) => s.toFixed(2)).join(' / ')} s` +
          ` (write ${ok.map((x) => x.writeS).join('/')} s, verify ${ok.map((x) => x.verifyS).join('/')} s;` +
          ` avrdude wall incl. reset+sync ${ok.map((x) => x.wallS.toFixed(2)).join('/')} s); ${ok.length}/${runs} runs ok`,
      );
    }
  } finally {
    const pid = uno.pid;
    await uno.stop();
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    check('harness stopped (SIGTERM to our PID), pty link removed', !alive && !fs.existsSync(uno.pty));
    const stats = uno.log().match(/stopping: (.*)/);
    if (stats) console.log(`harness: ${stats[1]}`);
    if (failed) console.log(`\nharness log:\n${uno.log()}`);
  }
  console.log(`\n${results.length - failed} passed, ${failed} failed`);
  return failed === 0;
}

const isMain = process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url;
if (isMain && process.argv.includes('--self-test')) {
  selfTest().then(
    (ok) => process.exit(ok ? 0 : 1),
    (err) => {
      console.error(`uno rig self-test: ${err.stack ?? err}`);
      process.exit(1);
    },
  );
}
