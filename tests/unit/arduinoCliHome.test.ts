// The data folder's arduino-cli home: its configuration written atomically and merged, looked up per
// call, and its binary found after the bundled and configured ones but before PATH.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { locateArduinoCli } from '../../electron/core/firmware/arduinoCli';
import {
  arduinoCliConfigFor,
  arduinoCliHome,
  dataFolderArduinoCliPath,
  writeArduinoCliConfig,
} from '../../electron/core/firmware/arduinoCliHome';

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-clihome-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

function executable(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

describe('arduinoCliHome', () => {
  it('writes the configuration with the home folders, the kept index URLs and no update notification', async () => {
    const home = arduinoCliHome(path.join(scratch, 'data'));
    expect(await writeArduinoCliConfig(home, ['package_makerdeckavr_index.json'])).toBe(true);
    const config = parse(readFileSync(home.configFile, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(config.directories).toEqual({ data: home.data, downloads: home.downloads, user: home.user });
    expect(config.board_manager!.additional_urls).toEqual([
      pathToFileURL(path.join(home.indexes, 'package_makerdeckavr_index.json')).href,
    ]);
    expect(config.updater).toEqual({ enable_notification: false });
    expect(config.metrics).toEqual({ enabled: false });
    // Atomic: no temporary file is left next to it.
    expect(readdirSync(home.dir)).toEqual(['arduino-cli.yaml']);
  });

  it('keeps the URLs already listed and writes nothing when nothing changes', async () => {
    const home = arduinoCliHome(path.join(scratch, 'data'));
    mkdirSync(home.dir, { recursive: true });
    // As arduino-cli rewrites it after `config add`.
    writeFileSync(
      home.configFile,
      'board_manager:\n  additional_urls:\n    - https://example.org/package_x_index.json\n',
    );
    expect(await writeArduinoCliConfig(home, ['package_a_index.json', 'package_b_index.json'])).toBe(true);
    const urls = () =>
      (parse(readFileSync(home.configFile, 'utf8')) as { board_manager: { additional_urls: string[] } }).board_manager
        .additional_urls;
    expect(urls()).toHaveLength(3);
    expect(urls()[0]).toBe('https://example.org/package_x_index.json');
    const before = readFileSync(home.configFile, 'utf8');
    expect(await writeArduinoCliConfig(home, ['package_b_index.json'])).toBe(false);
    expect(readFileSync(home.configFile, 'utf8')).toBe(before);
  });

  it('replaces a damaged configuration instead of failing', async () => {
    const home = arduinoCliHome(path.join(scratch, 'data'));
    mkdirSync(home.dir, { recursive: true });
    writeFileSync(home.configFile, 'board_manager: [unclosed\n');
    expect(await writeArduinoCliConfig(home, ['package_a_index.json'])).toBe(true);
    expect(readFileSync(home.configFile, 'utf8')).toContain('package_a_index.json');
  });

  it('uses MAKERDECK_ARDUINO_CLI_CONFIG first, then the data folder configuration once it exists', async () => {
    const dataDir = path.join(scratch, 'data');
    expect(await arduinoCliConfigFor({}, dataDir)).toBeUndefined();
    await writeArduinoCliConfig(arduinoCliHome(dataDir), []);
    expect(await arduinoCliConfigFor({}, dataDir)).toBe(arduinoCliHome(dataDir).configFile);
    expect(await arduinoCliConfigFor({ MAKERDECK_ARDUINO_CLI_CONFIG: '/x.yaml' }, dataDir)).toBe('/x.yaml');
  });
});

describe('locateArduinoCli with a data folder', () => {
  it('finds bundled, then configured, then the data folder, then PATH', async () => {
    const dataDir = path.join(scratch, 'data');
    const resourcesDir = path.join(scratch, 'resources');
    const onPath = path.join(scratch, 'path');
    executable(path.join(onPath, 'arduino-cli'));
    const search = { resourcesDir, dataDir, searchPath: onPath };
    expect(await locateArduinoCli(search)).toMatchObject({ source: 'path' });
    const packed = executable(dataFolderArduinoCliPath(dataDir));
    expect(await locateArduinoCli(search)).toEqual({ path: packed, source: 'data folder' });
    const configured = executable(path.join(scratch, 'mine', 'arduino-cli'));
    expect(await locateArduinoCli({ ...search, configuredPath: configured })).toEqual({
      path: configured,
      source: 'configured',
    });
    executable(path.join(resourcesDir, 'arduino-cli', `${process.platform}-${process.arch}`, 'arduino-cli'));
    expect(await locateArduinoCli({ ...search, configuredPath: configured })).toMatchObject({ source: 'bundled' });
  });
});
