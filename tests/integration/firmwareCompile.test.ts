// `makerdeck compile` with the real arduino-cli and Debian's AVR platform (the test rig), offline.
// A build is config-free and cached: the compile never sees a profile, the same sources for the same
// board, core and arduino-cli come from the cache, and no config.h or secret is ever on disk.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileSummary } from '../../electron/contract';
import { createHost } from '../../electron/core/host';
import { runCli } from '../support/cli';
import { rigConfigWithOwnCoreCache } from '../support/rigConfigWithOwnCoreCache';
import { repoRoot, requiredEnv } from '../support/env';
import { findSecrets, snapshot } from '../support/files';
import { processesMentioning, type ProcessInfo } from '../support/processes';
import { until } from '../support/wait';

const WIFI = 'compile-wifi-secret-77';
const MQTT = 'compile-mqtt-secret-88';
let scratch: string;
let env: NodeJS.ProcessEnv;
const privateRoot = path.join(os.tmpdir(), `makerdeck-${process.getuid!()}`);

function leftovers(): string[] {
  const found: string[] = [];
  for (const [where, dir] of [
    ['private build root', privateRoot],
    ['build cache', path.join(scratch, 'cache')],
    ['data', path.join(scratch, 'data')],
    ['firmware/', path.join(repoRoot, 'firmware')],
  ] as const) {
    for (const [name, bytes] of snapshot(dir, { includeLogs: true })) {
      if (path.basename(name) === 'config.h') found.push(`${where}: ${name}`);
      found.push(...findSecrets(`${where}/${name}`, bytes, [WIFI, MQTT]));
    }
  }
  return found;
}

/** Where Makerdeck keeps the Uno's build path (MAKERDECK_CACHE_DIR/builds/<board>) and cached images. */
const buildPath = () => path.join(scratch, 'cache', 'builds', 'arduino_avr_uno');
const cachedImages = () =>
  readdirSync(path.join(scratch, 'cache', 'builds', 'images')).filter((f) => f.endsWith('.json'));

/** A copy of the firmware with a comment of its own: new sources, so a compile that cannot come from the cache. */
function firmwareVariant(name: string): string {
  const sketch = path.join(scratch, name);
  cpSync(path.join(repoRoot, 'firmware'), sketch, { recursive: true });
  const ino = path.join(sketch, 'firmware.ino');
  writeFileSync(ino, `${readFileSync(ino, 'utf8')}\n// ${name}\n`);
  return sketch;
}

/** Sends `signal` to `pid` unless it is gone already. */
function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // it ended meanwhile
  }
}

/** The core's objects in the profile's build path, with their modification times. */
function coreObjects(): Map<string, number> {
  const core = path.join(buildPath(), 'core');
  return new Map(readdirSync(core).map((name) => [name, statSync(path.join(core, name)).mtimeMs]));
}

beforeAll(async () => {
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-compile-'));
  // A private arduino-cli config with an empty core cache, so the first build really compiles the core.
  const ownConfig = rigConfigWithOwnCoreCache(scratch);
  env = {
    MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
    MAKERDECK_ARDUINO_CLI_CONFIG: ownConfig,
  };
  const created = await runCli(
    [
      'profile',
      'set',
      'Compile Bench',
      '--board',
      'arduino:avr:uno',
      '--ssid',
      'lab',
      '--mqtt-host',
      'localhost',
      '--device-id',
      'compile-bench',
      '--wifi-password',
      '--mqtt-password',
    ],
    env,
    { input: `${WIFI}\n${MQTT}\n` },
  );
  expect(created.code, created.stderr).toBe(0);
});

afterAll(async () => {
  await runCli(['profile', 'rm', 'compile-bench'], env);
  rmSync(scratch, { recursive: true, force: true });
});

describe('makerdeck compile (real arduino-cli, offline)', () => {
  it('builds the firmware for an Uno once: the second compile, by board or by profile, is a cache hit', async () => {
    const first = await runCli(['compile', '--board', 'arduino:avr:uno', '--json'], env, { timeoutMs: 120_000 });
    const cold = JSON.parse(first.stdout) as CompileSummary;
    expect(cold, first.stderr).toMatchObject({ success: true, fqbn: 'arduino:avr:uno', cached: false });
    expect(cold.buildHash).toMatch(/^[0-9a-f]{16}$/);
    expect(cold.sizes.find((s) => s.name === 'text')?.size).toBeGreaterThan(1000);
    const core = coreObjects();
    expect([...core.keys()]).toContain('core.a');
    const second = JSON.parse(
      (await runCli(['compile', '--profile', 'compile-bench', '--json'], env)).stdout,
    ) as CompileSummary;
    expect(second).toMatchObject({ success: true, cached: true, buildHash: cold.buildHash, sizes: cold.sizes });
    // A profile change is config, not code: still the same build.
    const changed = await runCli(['profile', 'set', 'compile-bench', '--device-id', 'compile-bench-2'], env);
    expect(changed.code, changed.stderr).toBe(0);
    const third = JSON.parse(
      (await runCli(['compile', '--profile', 'compile-bench', '--json'], env)).stdout,
    ) as CompileSummary;
    expect(third).toMatchObject({ cached: true, buildHash: cold.buildHash });
    expect(coreObjects()).toEqual(core);
    expect(cachedImages()).toHaveLength(1);
    expect(leftovers()).toEqual([]);
  });

  it('compiles new sources again against the compiled core', async () => {
    const core = coreObjects();
    const result = await runCli(['compile', '--board', 'arduino:avr:uno', '--json'], {
      ...env,
      MAKERDECK_FIRMWARE_DIR: firmwareVariant('variant-sources'),
    });
    expect(JSON.parse(result.stdout) as CompileSummary).toMatchObject({ success: true, cached: false });
    // Incremental: not one object of the core was compiled again (how much faster that is: bench:compile).
    expect(coreObjects()).toEqual(core);
  });

  it('says where the image is: a 0600 file in the build cache, since a build holds no secret', async () => {
    const result = await runCli(['compile', '--profile', 'compile-bench', '--json'], env, { timeoutMs: 120_000 });
    const { image, buildHash } = JSON.parse(result.stdout) as CompileSummary;
    expect(image, result.stderr).toMatchObject({ format: 'hex', path: expect.any(String) });
    expect(path.dirname(image!.path!)).toBe(path.join(scratch, 'cache', 'builds', 'images'));
    expect(path.basename(image!.path!).startsWith(buildHash!)).toBe(true);
    const bytes = readFileSync(image!.path!);
    expect([bytes.length, createHash('sha256').update(bytes).digest('hex')]).toEqual([image!.bytes, image!.sha256]);
    expect(bytes.toString('latin1')).toMatch(/^:[0-9A-F]{10}/); // Intel HEX
    expect(statSync(image!.path!).mode & 0o777).toBe(0o600);
    const text = await runCli(['compile', '--profile', 'compile-bench'], env, { timeoutMs: 120_000 });
    expect(text.stdout).toContain(`Image: ${image!.path} (${image!.bytes} bytes, .hex)`);
    expect(leftovers()).toEqual([]);
  });

  it('reports a syntax error with file, line and source, and leaves nothing behind', async () => {
    const sketch = path.join(scratch, 'broken-firmware');
    cpSync(path.join(repoRoot, 'firmware'), sketch, { recursive: true });
    const ino = path.join(sketch, 'firmware.ino');
    writeFileSync(ino, readFileSync(ino, 'utf8').replace('sensorsBegin();', 'sensorsBegin()\n  int broken = ;'));
    const result = await runCli(['compile', '--board', 'arduino:avr:uno', '--json'], {
      ...env,
      MAKERDECK_FIRMWARE_DIR: sketch,
    });
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as CompileSummary;
    expect(summary.success).toBe(false);
    const error = summary.diagnostics.find((d) => d.severity === 'error')!;
    expect(error).toMatchObject({ file: ino, line: expect.any(Number) });
    expect(error.source).toMatch(/broken|sensorsBegin/);
    const text = await runCli(['compile', '--board', 'arduino:avr:uno'], { ...env, MAKERDECK_FIRMWARE_DIR: sketch });
    expect(text.stdout).toMatch(new RegExp(`${ino.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: error: `));
    expect(leftovers()).toEqual([]);
  });

  // Cancelled where it was seen to be: arduino-cli started by Makerdeck, or the compiler building the
  // sketch — that one frozen, so only killing the build can end it. New sources each time: no cache hit.
  it.each([
    {
      when: 'once arduino-cli runs',
      seen: (p: ProcessInfo) => p.ppid === process.pid && p.argv.includes(env.MAKERDECK_ARDUINO_CLI_CONFIG!),
      freeze: false,
    },
    {
      when: 'while its compiler, frozen, builds the sketch',
      seen: (p: ProcessInfo) => p.argv.some((arg) => arg.endsWith('firmware.ino.cpp.o')),
      freeze: true,
    },
  ])('cancels a build $when, ends it and leaves nothing behind', async ({ when, seen, freeze }) => {
    const sketch = firmwareVariant(`cancel-${freeze ? 'frozen' : 'early'}`);
    const host = createHost({
      kind: 'cli',
      quiet: true,
      env: { ...process.env, ...env, MAKERDECK_FIRMWARE_DIR: sketch },
    });
    const images = cachedImages();
    const running = host.call('firmware.compile', { operationId: 'cancel-me', board: 'arduino:avr:uno' });
    let ended = false;
    void running.then(() => (ended = true));
    const found = await until(
      when,
      () => {
        if (ended) throw new Error(`the build ended before it was seen ${when}`);
        const matching = processesMentioning(scratch).filter(seen);
        return matching.length > 0 ? matching : undefined;
      },
      30_000,
      5,
    );
    const frozen = freeze ? found.map((p) => p.pid) : [];
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      const cancel = await host.call('operations.cancel', { operationId: 'cancel-me' });
      expect(cancel).toEqual({ ok: true, value: { cancelled: true } });
      expect(await running).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    } finally {
      for (const pid of frozen) signalIfAlive(pid, 'SIGCONT');
    }
    // What arduino-cli left running must not write into the build once it was scrubbed.
    await until('every process of the cancelled build gone', () => processesMentioning(scratch).length === 0, 10_000);
    expect(cachedImages()).toEqual(images); // a cancelled build is never cached
    expect(leftovers()).toEqual([]);
  });
});
