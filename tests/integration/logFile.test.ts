// The log file through the real CLI: an unexpected error's detail (its stack) lands in the data
// folder's log file, 0600, redacted, and the one line the user sees names that file. The error comes
// from a stand-in arduino-cli (a script, named so) that answers a compile with broken JSON (a build
// never sees the profile's secrets; the scan below still checks that none reached a file).
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { findSecrets, snapshot } from '../support/files';

const WIFI = 'log-file-wifi-secret-31';
let scratch: string;
let env: NodeJS.ProcessEnv;
const logFile = () => path.join(scratch, 'data', 'logs', 'makerdeck.log');

beforeAll(async () => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-logfile-'));
  const standIn = path.join(scratch, 'arduino-cli');
  // Version and core list answer as arduino-cli does (no core installed); a compile breaks off its JSON.
  writeFileSync(
    standIn,
    [
      '#!/bin/sh',
      'case " $* " in',
      '  *" version "*) echo \'{"VersionString":"0.0.0-standin"}\'; exit 0;;',
      '  *" core "*) echo \'{"platforms":[]}\'; exit 0;;',
      'esac',
      'for last; do :; done',
      'printf \'{"compiler_out": "\'',
      'ls "$last"',
      'exit 1',
    ].join('\n'),
  );
  chmodSync(standIn, 0o755);
  env = {
    MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
    MAKERDECK_ARDUINO_CLI: standIn,
  };
  const created = await runCli(
    [
      'profile',
      'set',
      'Log Bench',
      '--board',
      'arduino:avr:uno',
      '--ssid',
      'lab',
      '--mqtt-host',
      'localhost',
      '--device-id',
      'log-bench',
      '--wifi-password',
    ],
    env,
    { input: `${WIFI}\n` },
  );
  expect(created.code, created.stderr).toBe(0);
});

afterAll(async () => {
  await runCli(['profile', 'rm', 'log-bench'], env);
  rmSync(scratch, { recursive: true, force: true });
});

describe('the log file (real CLI, stand-in arduino-cli)', () => {
  it("names the log file in the error line, and the file holds the error's stack without the secret", async () => {
    for (const json of [[], ['--json']]) {
      const result = await runCli(['compile', '--profile', 'log-bench', ...json], env);
      expect(result.code, result.stderr).toBe(4);
      const said = `firmware.compile failed unexpectedly; details are in ${logFile()}`;
      if (json.length) expect(JSON.parse(result.stdout)).toEqual({ error: { code: 'INTERNAL', message: said } });
      else expect(result.stderr).toContain(`makerdeck: ${said}\n`);
      expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /); // no stack on the terminal
    }
    const lines = readFileSync(logFile(), 'utf8').trimEnd().split('\n');
    const failures = lines.filter((line) => line.includes('firmware.compile failed: SyntaxError'));
    expect(failures).toHaveLength(2); // one per command, from two processes
    for (const line of failures) expect(line).toMatch(/^\S+Z \[error\] core: .* \| SyntaxError: .* \| at \S+/);
    expect(statSync(logFile()).mode & 0o777).toBe(0o600);
    const leaks = [...snapshot(scratch, { includeLogs: true })].flatMap(([name, bytes]) =>
      findSecrets(name, bytes, [WIFI]),
    );
    expect(leaks).toEqual([]);
  });
});
