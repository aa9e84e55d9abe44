import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileExists, pathExists } from '../../electron/core/pathExists';
import { jsonOrUndefined } from '../../electron/core/jsonOrUndefined';

const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-exists-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pathExists and fileExists', () => {
  it('tell a file, a folder, a link to a file and nothing apart', async () => {
    const file = path.join(dir, 'a.txt');
    const folder = path.join(dir, 'sub');
    const link = path.join(dir, 'link');
    writeFileSync(file, 'x');
    mkdirSync(folder);
    symlinkSync(file, link);
    const missing = path.join(dir, 'none', 'b.txt');
    expect(await Promise.all([file, folder, link, missing].map(pathExists))).toEqual([true, true, true, false]);
    expect(await Promise.all([file, folder, link, missing].map(fileExists))).toEqual([true, false, true, false]);
  });
});

describe('jsonOrUndefined', () => {
  it('parses JSON and gives undefined for a half-written or foreign file', () => {
    expect(jsonOrUndefined('{"steps":{"a":{}}}')).toEqual({ steps: { a: {} } });
    expect(jsonOrUndefined('null')).toBeNull();
    expect(jsonOrUndefined('{"steps":{"a"')).toBeUndefined();
    expect(jsonOrUndefined('')).toBeUndefined();
  });
});
