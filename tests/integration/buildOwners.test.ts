// A compile killed outright (SIGKILL of Makerdeck mid-build, the real arduino-cli of the test rig)
// leaves its secrets in the private sketch copy and the build path; the next compile — of another
// profile — removes them, and ends the arduino-cli the killed one left running.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileSummary } from '../../electron/contract';
import { runCli } from '../support/cli';
import { rigConfigWithOwnCoreCache } from '../support/rigConfigWithOwnCoreCache';
import { repoRoot, requiredEnv } from '../support/env';
import { findSecrets, snapshot } from '../support/files';
import { processesMentioning } from '../support/processes';
import { until } from '../support/wait';

const SECRET = 'stale-build-wifi-secret-41';
const privateRoot = path.join(os.tmpdir(), `makerdeck-${process.getuid!()}`);
let scratch: string;
let env: NodeJS.ProcessEnv;

/** Files of the killed profile's build holding its secret or a config.h, in the private root and the cache. */
function leftovers(): string[] {
  const found: string[] = [];
  for (const [where, dir] of [
    ['private build root', path.join(privateRoot, 'build-stale-a-arduino_avr_uno')],
    ['build cache', path.join(scratch, 'cache')],
  ] as const) {
    for (const [name, bytes] of snapshot(dir)) {
      if (path.basename(name) === 'config.h') found.push(`${where}: ${name}`);
      found.push(...findSecrets(`${where}/${name}`, bytes, [SECRET]));
    }
  }
  return found;
}

async function profile(name: string, deviceId: string, wifiPassword?: string): Promise<void> {
  const args = ['profile', 'set', name, '--board', 'arduino:avr:uno', '--ssid', 'lab', '--mqtt-host', 'localhost'];
  const created = await runCli([...args, '--device-id', deviceId, ...(wifiPassword ? ['--wifi-password'] : [])], env, {
    input: wifiPassword ? `${wifiPassword}\n` : undefined,
  });
  expect(created.code, created.stderr).toBe(0);
}

beforeAll(async () => {
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-stale-'));
  // An empty core cache of its own, so the killed build is still busy when it is killed.
  const ownConfig = rigConfigWithOwnCoreCache(scratch);
  env = {
    MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
    MAKERDECK_ARDUINO_CLI_CONFIG: ownConfig,
  };
  await profile('Stale A', 'stale-a', SECRET);
  await profile('Stale B', 'stale-b');
});

afterAll(async () => {
  for (const p of processesMentioning(scratch)) process.kill(p.pid, 'SIGKILL'); // only this file's builds
  await runCli(['profile', 'rm', 'stale-a'], env);
  await runCli(['profile', 'rm', 'stale-b'], env);
  rmSync(path.join(privateRoot, 'build-stale-a-arduino_avr_uno'), { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('build folders of a killed compile (real arduino-cli)', () => {
  it('are removed by the next compile, with the arduino-cli the killed one left', async () => {
    const makerdeck = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin', 'makerdeck.js'), 'compile', '--profile', 'stale-a'],
      {
        env: { ...process.env, ...env },
        stdio: 'ignore',
      },
    );
    // Killed while the compiler builds the sketch, i.e. with config.h's secrets in the build.
    await until(
      "the compiler building stale-a's sketch",
      () => processesMentioning(scratch).some((p) => p.argv.some((arg) => arg.endsWith('firmware.ino.cpp.o'))),
      60_000,
      5,
    );
    makerdeck.kill('SIGKILL');
    await new Promise((resolve) => makerdeck.once('exit', resolve));
    expect(leftovers().length).toBeGreaterThan(0); // what a kill leaves: the secret on disk

    const next = await runCli(['compile', '--profile', 'stale-b', '--json'], env, { timeoutMs: 180_000 });
    expect((JSON.parse(next.stdout) as CompileSummary).success, next.stderr).toBe(true);
    expect(leftovers()).toEqual([]);
    expect(processesMentioning(scratch).filter((p) => p.argv.join(' ').includes('stale-a'))).toEqual([]);
  }, 300_000);
});
