// `makerdeck profile import` refuses what cannot be a Makerdeck profile file — by its size or shape before
// reading it, by its scrypt cost and cipher lengths before deriving a key — in one line, importing nothing.
// Uses the real Secret Service started by `npm test` (a refused import must leave the keychain as it was).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfileView } from '../../electron/contract';
import { runCli, type CliResult } from '../support/cli';
import { requiredEnv } from '../support/env';
import { secretToolLookup, snapshot } from '../support/files';
import { folderAccount } from '../support/keychain';

const PASSPHRASE = 'limits-passphrase-1';
const CAP = 256 * 1024;
let dataDir: string;
let work: string;
let exported: string;
const cli = (args: string[], input?: string) => runCli(args, { MAKERDECK_DATA_DIR: dataDir }, { input });

function oneLineError(result: CliResult, code: number): string {
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0]!;
}

/** The real export, changed as `change` says, written to a file in the work folder. */
function variant(name: string, change: (sealed: Record<string, unknown>) => void): string {
  const file = JSON.parse(exported);
  change(file.secrets);
  const target = path.join(work, name);
  writeFileSync(target, JSON.stringify(file));
  return target;
}

beforeAll(async () => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-import-limits-'));
  work = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-import-files-'));
  const created = await cli(
    [
      'profile',
      'set',
      'Limits Bench',
      '--board',
      'esp32:esp32:esp32',
      '--ssid',
      'lab',
      '--mqtt-host',
      'broker.lan',
      '--device-id',
      'limits-bench',
      '--wifi-password',
    ],
    'limits-wifi-secret\n',
  );
  expect(created.stderr).toBe('');
  const file = path.join(work, 'real.json');
  expect(
    (await cli(['profile', 'export', 'limits-bench', file, '--encrypt'], `${PASSPHRASE}\n${PASSPHRASE}\n`)).code,
  ).toBe(0);
  exported = readFileSync(file, 'utf8');
});
afterAll(async () => {
  await cli(['profile', 'rm', 'limits-bench']);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('makerdeck profile import limits', () => {
  it('refuses a 600 MB file from its size (sparse: nothing is written or read), in one line', async () => {
    const big = path.join(work, 'disk.img');
    writeFileSync(big, '');
    truncateSync(big, 600_000_000);
    const before = snapshot(dataDir);
    const text = await cli(['profile', 'import', big]);
    expect(oneLineError(text, 2)).toBe(
      `makerdeck: ${big} is 600 MB; a Makerdeck profile file is at most 256 KiB: is this the right file?`,
    );
    const json = await cli(['profile', 'import', big, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        code: 'BAD_INPUT',
        message: `${big} is 600 MB; a Makerdeck profile file is at most 256 KiB: is this the right file?`,
      },
    });
    expect(snapshot(dataDir)).toEqual(before);
  });

  it('takes a file of exactly 256 KiB to the parser, and refuses one byte more by its size', async () => {
    const atCap = path.join(work, 'at-cap.json');
    writeFileSync(atCap, ' '.repeat(CAP));
    expect(oneLineError(await cli(['profile', 'import', atCap]), 2)).toMatch(
      /not a Makerdeck profile export \(not JSON\)/,
    );
    const over = path.join(work, 'over-cap.json');
    writeFileSync(over, ' '.repeat(CAP + 1));
    expect(oneLineError(await cli(['profile', 'import', over]), 2)).toBe(
      `makerdeck: ${over} is 262,145 bytes; a Makerdeck profile file is at most 256 KiB: is this the right file?`,
    );
  });

  it('refuses a folder and a FIFO without opening them for reading (a FIFO read would hang)', async () => {
    const folder = path.join(work, 'a-folder');
    mkdirSync(folder);
    expect(oneLineError(await cli(['profile', 'import', folder]), 2)).toBe(
      `makerdeck: ${folder} is not a file: give the path of an exported profile (.json)`,
    );
    const fifo = path.join(work, 'a-fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(oneLineError(await cli(['profile', 'import', fifo]), 2)).toBe(
      `makerdeck: ${fifo} is not a file: give the path of an exported profile (.json)`,
    );
  });

  it('says NOT_FOUND only for a file that is not there', async () => {
    const missing = path.join(work, 'missing.json');
    expect(oneLineError(await cli(['profile', 'import', missing]), 1)).toBe(
      `makerdeck: Cannot read ${missing}: no such file`,
    );
  });

  it('refuses a file that sets its own scrypt cost (N=2^20, r=16, p=4) before deriving a key', async () => {
    const costly = variant('costly.json', (sealed) => Object.assign(sealed, { N: 2 ** 20, r: 16, p: 4 }));
    const before = snapshot(dataDir);
    const result = await cli(['profile', 'import', costly, '--name', 'Costly'], `${PASSPHRASE}\n`);
    expect(oneLineError(result, 2)).toBe(
      'makerdeck: This profile export is damaged or from a newer Makerdeck (at "secrets.N": Makerdeck reads only scrypt N=32768, r=8, p=1: a file cannot choose its own cost): nothing was imported',
    );
    expect(snapshot(dataDir)).toEqual(before);
  });

  it('refuses a GCM tag cut to 4 bytes and a 1-byte IV, importing nothing', async () => {
    const cut = (field: string, length: number) => (sealed: Record<string, unknown>) => {
      sealed[field] = Buffer.from(String(sealed[field]), 'base64').subarray(0, length).toString('base64');
    };
    const before = snapshot(dataDir);
    for (const [field, length, want] of [
      ['tag', 4, 16],
      ['iv', 1, 12],
    ] as const) {
      const file = variant(`${field}-${length}.json`, cut(field, length));
      const result = await cli(['profile', 'import', file, '--name', `Cut ${field}`], `${PASSPHRASE}\n`);
      expect(oneLineError(result, 2)).toContain(
        `(at "secrets.${field}": must be ${want} bytes, as Makerdeck writes it): nothing was imported`,
      );
    }
    expect(snapshot(dataDir)).toEqual(before);
  });

  it('still imports the real export, secrets into the keychain', async () => {
    const file = path.join(work, 'real.json');
    const result = await cli(['profile', 'import', file, '--name', 'Limits Copy', '--json'], `${PASSPHRASE}\n`);
    // A copy beside its original shares its device id: imported, with the one warning that says so.
    expect(result.stderr).toMatch(
      /^makerdeck: warning: The device id "limits-bench" is used by the profile "Limits Bench" already: [^\n]*\n$/,
    );
    const imported = JSON.parse(result.stdout) as ProfileView;
    expect(imported.secrets.wifiPassword).toBe(true);
    expect(secretToolLookup(folderAccount(dataDir, `${imported.id}/wifi-password`))).toBe('limits-wifi-secret');
    expect((await cli(['profile', 'rm', imported.id])).code).toBe(0);
  });
});
