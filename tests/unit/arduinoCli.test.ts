import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arduinoCliCheck } from '../../electron/core/doctor/arduinoCliCheck';
import { bundledArduinoCliPath, locateArduinoCli } from '../../electron/core/firmware/arduinoCli';

// Stand-in arduino-cli binaries: shell scripts answering `version --format json` the way arduino-cli does.
const EXE = process.platform === 'win32' ? 'arduino-cli.exe' : 'arduino-cli';
let dir: string;

function standIn(folder: string, version: string, mode = 0o755): string {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, EXE);
  writeFileSync(file, `#!/bin/sh\necho '{"VersionString":"${version}","Commit":"stand-in"}'\n`);
  chmodSync(file, mode);
  return file;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-arduino-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(process.platform === 'win32')('locateArduinoCli (stand-in binaries)', () => {
  it('prefers the bundled resources/arduino-cli/<platform>-<arch>/ over a configured path and PATH', async () => {
    const resourcesDir = path.join(dir, 'resources');
    const bundled = standIn(path.join(resourcesDir, 'arduino-cli', `${process.platform}-${process.arch}`), '1.0.4');
    const configured = standIn(path.join(dir, 'configured'), '0.35.0');
    const onPath = path.join(dir, 'bin');
    standIn(onPath, '0.34.0');
    expect(bundledArduinoCliPath(resourcesDir)).toBe(bundled);
    await expect(locateArduinoCli({ resourcesDir, configuredPath: configured, searchPath: onPath })).resolves.toEqual({
      path: bundled,
      source: 'bundled',
    });
  });

  it("ignores another target's folder and a bundled file that is not executable", async () => {
    const resourcesDir = path.join(dir, 'resources');
    const other = process.arch === 'arm64' ? 'x64' : 'arm64';
    standIn(path.join(resourcesDir, 'arduino-cli', `${process.platform}-${other}`), '1.0.4');
    standIn(path.join(resourcesDir, 'arduino-cli', `${process.platform}-${process.arch}`), '1.0.4', 0o644);
    const onPath = path.join(dir, 'bin');
    const found = standIn(onPath, '0.34.0');
    await expect(locateArduinoCli({ resourcesDir, searchPath: onPath })).resolves.toEqual({
      path: found,
      source: 'path',
    });
  });

  it('the doctor names the bundled binary and its version', async () => {
    const resourcesDir = path.join(dir, 'resources');
    const bundled = standIn(path.join(resourcesDir, 'arduino-cli', `${process.platform}-${process.arch}`), '1.0.4');
    const outcome = await arduinoCliCheck.run(
      { env: {}, dataDir: dir, arduinoCli: { resourcesDir, searchPath: '' } },
      new AbortController().signal,
    );
    expect(outcome).toMatchObject({ status: 'ok', summary: `arduino-cli 1.0.4 (bundled with Makerdeck: ${bundled})` });
  });
});
