// kill -9 never leaves a secret: `makerdeck flash --profile` (the real arduino-cli, the emulated Uno
// running the real optiboot) is SIGKILLed 20 times at spread points — while the compiler builds, while
// the build cache is looked up, at the stamp, at the connect, mid-write, mid-verify — each point
// waited for on a real condition (a progress line, a compiler process). Afterwards no form of either
// password is anywhere Makerdeck writes (data folder and its log, build cache, temp folder and the
// private build root), none was ever in the argv of a process it ran, and the next release works.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlashSummary } from '../../electron/contract';
import { createHost } from '../../electron/core/host';
import { runCli } from '../support/cli';
import { scratchEnv } from '../support/scratchEnv';
import { repoRoot, requiredEnv } from '../support/env';
import { findSecrets, snapshot } from '../support/files';
import { monitorUntil } from '../support/monitor';
import { processes, processesMentioning } from '../support/processes';
import { startUno, type EmulatedUno } from '../support/uno';
import { startSecretService } from '../../scripts/services/keyring.js';
import { until } from '../support/wait';

const WIFI = 'kill9-wifi-Vb27qLx';
const MQTT = 'kill9-mqtt-Rn64sWe';
const SECRETS = [WIFI, MQTT];
const DEVICE = 'kill9-bench';
const RUNS = 20;

/** Where a kill lands, and the condition that says Makerdeck is there. */
const KILL_POINTS = {
  compiler: 'the compiler building the sketch (cache emptied first)',
  lookup: 'compile: Building for', // the build-cache lookup (arduino-cli version, core list, the cache read)
  stamp: 'stamp: Stamping',
  connect: 'connect: Connecting',
  write: 'write',
  verify: 'verify',
} as const;
type KillPoint = keyof typeof KILL_POINTS;
const ORDER = Object.keys(KILL_POINTS) as KillPoint[];

let scratch: string;
let env: NodeJS.ProcessEnv;
let uno: EmulatedUno;
let keyring: Awaited<ReturnType<typeof startSecretService>> | undefined;

beforeAll(async () => {
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-kill9-'));
  uno = await startUno(path.join(scratch, 'uno'));
  // A Secret Service of its own: a client SIGKILLed mid-conversation can crash gnome-keyring-daemon,
  // which would take the keyring every other test file uses down with it (it did, in CI).
  keyring = await startSecretService({ dir: path.join(scratch, 'keyring'), restartOnCrash: true });
  env = scratchEnv(scratch, { ...uno.env, ...keyring.env });
  const created = await runCli(
    ['profile', 'set', 'Kill Nine', '--board', 'arduino:avr:uno', '--ssid', 'lab', '--mqtt-host', 'localhost'].concat([
      '--mqtt-user',
      DEVICE,
      '--device-id',
      DEVICE,
      '--interval',
      '1',
      '--wifi-password',
      '--mqtt-password',
    ]),
    env,
    { input: `${WIFI}\n${MQTT}\n` },
  );
  expect(created.code, created.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const p of processesMentioning(scratch)) if (p.pid !== process.pid) process.kill(p.pid, 'SIGKILL'); // ours only
  await uno?.stop();
  await keyring?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every form a secret could be written in: plain, URL-encoded, base64 (findSecrets) and hex. */
function leaks(where: string, bytes: Buffer): string[] {
  const found = findSecrets(where, bytes, SECRETS);
  const text = bytes.toString('latin1');
  for (const secret of SECRETS) {
    const hex = Buffer.from(secret).toString('hex');
    if (text.toLowerCase().includes(hex)) found.push(`${where}: hex`);
  }
  // An Intel HEX file spreads bytes over 16-byte records: search its data bytes joined up.
  if (text.startsWith(':')) found.push(...findSecrets(`${where} (HEX data)`, hexData(text), SECRETS));
  return found;
}

function hexData(text: string): Buffer {
  const records = text.split(/\r?\n/).filter((line) => /^:[0-9A-Fa-f]{10,}$/.test(line));
  return Buffer.concat(records.map((line) => Buffer.from(line.slice(9, -2), 'hex')));
}

/** Scans every place Makerdeck writes (the log file, when a command logged, included); returns what it found. */
function scanDisk(): { found: string[]; files: number } {
  const places = {
    data: env.MAKERDECK_DATA_DIR!,
    cache: env.MAKERDECK_CACHE_DIR!,
    tmp: env.TMPDIR!, // holds the private build root makerdeck-<uid>
    'test process tmp root': path.join(os.tmpdir(), `makerdeck-${process.getuid!()}`),
  };
  let files = 0;
  const found: string[] = [];
  for (const [where, dir] of Object.entries(places))
    for (const [name, bytes] of snapshot(dir, { includeLogs: true })) {
      files++;
      found.push(...leaks(`${where}/${name}`, bytes));
    }
  return { found, files };
}

/** The processes under `root` (itself included) as /proc shows them now. */
function tree(root: number) {
  const all = processes();
  const pids = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) if (pids.has(p.ppid) && !pids.has(p.pid)) grew = pids.add(p.pid) !== undefined;
  }
  return all.filter((p) => pids.has(p.pid));
}

/** Watches the command lines of Makerdeck and everything it starts, until stopped. */
function watchCommandLines(root: number) {
  const seen = new Map<string, string[]>();
  const timer = setInterval(() => {
    for (const p of tree(root)) seen.set(`${p.pid}:${p.argv.join(' ')}`, p.argv);
  }, 10);
  return { stop: () => clearInterval(timer), seen };
}

async function killAt(point: KillPoint, commandLines: Map<string, string[]>): Promise<string> {
  if (point === 'compiler') rmSync(path.join(scratch, 'cache', 'builds', 'images'), { recursive: true, force: true });
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin', 'makerdeck.js'), 'flash', '--profile', 'kill-nine', '--port', uno.pty],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let exited = false;
  const gone = new Promise((resolve) => child.once('exit', () => resolve((exited = true))));
  const watcher = watchCommandLines(child.pid!);
  try {
    await until(
      `${KILL_POINTS[point]} (${point})`,
      () => {
        const there =
          point === 'compiler'
            ? processesMentioning(scratch).some((p) => p.argv.some((arg) => arg.endsWith('firmware.ino.cpp.o')))
            : stderr.split('\n').some((line) => line.startsWith(KILL_POINTS[point]));
        if (!there && exited) throw new Error(`makerdeck ended before the kill point ${point}: ${stderr}`);
        return there;
      },
      120_000,
      point === 'compiler' ? 5 : 2,
    );
    child.kill('SIGKILL'); // the process we started, by its PID
    await gone;
  } finally {
    watcher.stop();
    for (const [key, argv] of watcher.seen) commandLines.set(key, argv);
  }
  return stderr.trim().split('\n').at(-1)!.split(':')[0]!; // the phase Makerdeck had reported last
}

describe('kill -9 during a release (real arduino-cli, emulated Uno)', () => {
  it('leaves no secret anywhere, in 20 kills at spread points, and the next release works', async () => {
    const commandLines = new Map<string, string[]>();
    const lastPhases: string[] = [];
    for (let run = 0; run < RUNS; run++) lastPhases.push(await killAt(ORDER[run % ORDER.length]!, commandLines));
    // Kills landed from the build to the verify (a stamp takes microseconds: its kill lands in the connect).
    for (const phase of ['compile', 'connect', 'write', 'verify']) expect(lastPhases).toContain(phase);
    console.log(`kill -9 landed after: ${lastPhases.join(', ')}`);

    const afterKills = scanDisk();
    expect(afterKills.found).toEqual([]);
    expect(afterKills.files).toBeGreaterThan(3);

    console.log(`scanned ${afterKills.files} files; watched ${commandLines.size} process command lines`);
    const argvLeaks = [...commandLines.values()].flatMap((argv) =>
      findSecrets(argv.join(' '), argv.join('\0'), SECRETS),
    );
    expect(argvLeaks).toEqual([]);
    // The watcher saw Makerdeck and the compiler it ran, so the check looked at real command lines.
    expect([...commandLines.values()].some((argv) => argv.some((a) => a.endsWith('firmware.ino.cpp.o')))).toBe(true);

    const next = await runCli(['flash', '--profile', 'kill-nine', '--port', uno.pty, '--json'], env, {
      timeoutMs: 180_000,
    });
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout) as FlashSummary).toMatchObject({ verified: true, release: { deviceId: DEVICE } });
    const host = createHost({ kind: 'cli', quiet: true, env: { ...process.env, ...env } });
    const lines = await monitorUntil(host, uno.pty, (l) => l.some((x) => x.text.startsWith('telemetry,')));
    expect(lines.some((l) => l.text.startsWith(`makerdeck firmware ready, device ${DEVICE}`))).toBe(true);
    expect(scanDisk().found).toEqual([]);
  }, 900_000);
});
