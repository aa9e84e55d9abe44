// npm run bench:redactor — the redactor's bounds, measured: the request-learned budget filled with
// the costliest characters (each URL-encodes to 9 bytes), then keychain-held sets of 1,000 and
// 10,000 secrets; the trie size and memory of each, and the time to redact texts of 1 KiB, 64 KiB
// and 1 MiB with no secret in them, with a secret every ~200 characters, and built to keep the
// matcher on long partial matches. Last, dispatch of the red-team flood frame (6,000 secret-named
// strings, ~150 KB), which the old redactor took 40 s to learn.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const load = async (/** @type {string} */ file) => (await runnerImport(path.join(root, file))).module;
/**
 * @typedef {typeof import('../../electron/core/secrets/redactor')} RedactorModule
 * @typedef {import('../../electron/core/secrets/redactor').Redactor} Redactor
 */
const { Redactor, MAX_LEARNED_CHARS, MAX_LEARNED_SECRETS } = /** @type {RedactorModule} */ (
  await load('electron/core/secrets/redactor.ts')
);
const { dispatch } = /** @type {typeof import('../../electron/core/dispatch')} */ (
  await load('electron/core/dispatch.ts')
);
const { EventBus } = /** @type {typeof import('../../electron/core/events')} */ (await load('electron/core/events.ts'));
const { createLogger } = /** @type {typeof import('../../electron/core/log')} */ (await load('electron/core/log.ts'));

const RUNS = 7;
const SIZES = [1024, 64 * 1024, 1024 * 1024];

function memory() {
  globalThis.gc?.();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return /** @type {number} */ (sorted[Math.floor(sorted.length / 2)]);
}

/** @param {() => void} work */
function timeMs(work) {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * @param {string} secret
 * @param {number} size
 */
function texts(secret, size) {
  const plain = 'telemetry,device=bench-1 temperature=21.5,humidity=40 1718000000000000000\n';
  const fill = (/** @type {string} */ unit) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  return {
    'no secret': fill(plain),
    'a secret every ~200 chars': fill(`${plain}${plain.slice(0, 120)} pw=${secret} `),
    'long partial matches': fill(secret.slice(0, -1)),
  };
}

/**
 * @param {string} label
 * @param {Redactor} redactor
 * @param {string} secret
 */
function measure(label, redactor, secret) {
  const before = memory();
  const linkMs = timeMs(() => redactor.redact('x')); // the failure links are built lazily, once
  const { nodes, held, learned, learnedChars } = redactor.stats();
  const trie = `${nodes.toLocaleString('en')} trie nodes, linked in ${linkMs.toFixed(1)} ms`;
  console.log(`\n${label}: ${held} held + ${learned} learned secrets (${learnedChars} learned chars), ${trie}`);
  for (const size of SIZES) {
    for (const [kind, text] of Object.entries(texts(secret, size))) {
      const ms = median(Array.from({ length: RUNS }, () => timeMs(() => redactor.redact(text))));
      const what = `${String(size / 1024).padStart(4)} KiB, ${kind.padEnd(26)}`;
      console.log(`  redact ${what} ${ms.toFixed(2).padStart(8)} ms`);
    }
  }
  return before;
}

// 1. The request budget, full, with the costliest characters.
let base = memory();
const learned = new Redactor();
const worst = (/** @type {number} */ i) => `${String.fromCharCode(0x4e00 + i)}\u0001${'€'.repeat(126)}`;
const learnMs = timeMs(() => {
  for (let i = 0; learned.learn(worst(i)); i++);
});
const budget = `${MAX_LEARNED_SECRETS} secrets / ${MAX_LEARNED_CHARS} chars max`;
const afterLearned = measure(`request budget full (${budget}), learned in ${learnMs.toFixed(1)} ms`, learned, worst(0));
console.log(`  memory: ${((afterLearned - base) / 2 ** 20).toFixed(1)} MiB`);

// 2. Keychain-held secrets, printable ASCII of MQTT-password length: redacting does not slow with the count.
for (const count of [1_000, 10_000]) {
  base = memory();
  const held = new Redactor();
  const secret = (/** @type {number} */ i) => `mqtt-${i.toString(36)}-${'k'.repeat(20)}${(i * 7919).toString(36)}`;
  const addMs = timeMs(() => {
    for (let i = 0; i < count; i++) held.add(secret(i));
  });
  const label = `${count.toLocaleString('en')} keychain-held secrets, added in ${addMs.toFixed(1)} ms`;
  const after = measure(label, held, secret(count - 1));
  console.log(`  memory: ${((after - base) / 2 ** 20).toFixed(1)} MiB`);
}

// 3. The red-team flood frame through dispatch: refused before validation (too many values), nothing learned.
const redactor = new Redactor();
const logger = createLogger(new EventBus(redactor), redactor, 'bench', true);
const items = Array.from({ length: 6000 }, (_, i) => ({ password: `flood-${i}-${'p'.repeat(8)}` }));
const frame = JSON.stringify({ ref: 'x', items });
// Only the one handler the frame names: dispatch refuses the frame before calling it.
const handlers = /** @type {import('../../electron/contract').Handlers} */ (
  /** @type {unknown} */ ({ 'profiles.get': async () => ({}) })
);
const floodMs = [];
for (let run = 0; run < RUNS; run++) {
  const start = process.hrtime.bigint();
  await dispatch(handlers, 'profiles.get', JSON.parse(frame), redactor, logger);
  floodMs.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const flood = `flood frame (${(frame.length / 1024).toFixed(0)} KiB, 6,000 secret-named strings)`;
console.log(`\n${flood}: dispatched in ${median(floodMs).toFixed(2)} ms, ${redactor.stats().learned} learned`);
