// A compile killed outright (SIGKILL of Makerdeck mid-build, the real arduino-cli of the test rig)
// leaves its private sketch copy, a half-built build path and an arduino-cli still compiling; the
// next compile removes them, ends that arduino-cli and builds.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileSummary } from '../../electron/contract';
import { runCli } from '../support/cli';
import { rigConfigWithOwnCoreCache } from '../support/rigConfigWithOwnCoreCache';
import { repoRoot, requiredEnv } from '../support/env';
import { processesMentioning } from '../support/processes';
import { until } from '../support/wait';

const privateRoot = path.join(os.tmpdir(), `makerdeck-${process.getuid!()}`);
let scratch: string;
let env: NodeJS.ProcessEnv;

/** Private sketch copies whose owner file names the process `pid`. */
function copiesOwnedBy(pid: number): string[] {
  return readdirSync(privateRoot)
    .filter((name) => name.startsWith('build-'))
    .filter((name) => {
      try {
        const owner = JSON.parse(readFileSync(path.join(privateRoot, name, '.makerdeck-owner.json'), 'utf8'));
        return owner.makerdeck?.pid === pid;
      } catch {
        return false;
      }
    });
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
});

afterAll(async () => {
  for (const p of processesMentioning(scratch)) process.kill(p.pid, 'SIGKILL'); // only this file's builds
  rmSync(scratch, { recursive: true, force: true });
});

describe('build folders of a killed compile (real arduino-cli)', () => {
  it('are removed by the next compile, with the arduino-cli the killed one left', async () => {
    const makerdeck = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin', 'makerdeck.js'), 'compile', '--board', 'arduino:avr:uno'],
      { env: { ...process.env, ...env }, stdio: 'ignore' },
    );
    // Killed while the compiler builds the sketch.
    await until(
      'the compiler building the sketch',
      () => processesMentioning(scratch).some((p) => p.argv.some((arg) => arg.endsWith('firmware.ino.cpp.o'))),
      60_000,
      5,
    );
    makerdeck.kill('SIGKILL');
    await new Promise((resolve) => makerdeck.once('exit', resolve));
    expect(copiesOwnedBy(makerdeck.pid!)).toHaveLength(1); // what a kill leaves
    expect(processesMentioning(scratch).some((p) => p.argv[0]?.endsWith('arduino-cli'))).toBe(true);

    const next = await runCli(['compile', '--board', 'arduino:avr:uno', '--json'], env, { timeoutMs: 180_000 });
    const summary = JSON.parse(next.stdout) as CompileSummary;
    expect(
      summary.success,
      `${next.stderr}${summary.error ?? ''} ${JSON.stringify(summary.diagnostics).slice(0, 2000)}`,
    ).toBe(true);
    expect(copiesOwnedBy(makerdeck.pid!)).toEqual([]);
    expect(processesMentioning(scratch)).toEqual([]);
  }, 300_000);
});
