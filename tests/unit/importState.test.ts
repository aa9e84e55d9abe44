// The resume state of a pack import: what it trusts from an earlier run, and what it does not.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImportState, STATE_FILE } from '../../electron/core/pack/importState';

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'makerdeck-state-')), 'packs', 'abcdef0123');
});
afterEach(() => rmSync(path.dirname(path.dirname(dir)), { recursive: true, force: true }));

const entry = { path: 'builds/a.hex', bytes: 5, sha256: 'a'.repeat(64) };

function writeMember(state: ImportState, body: string): void {
  mkdirSync(path.dirname(state.pathOf(entry.path)), { recursive: true });
  writeFileSync(state.pathOf(entry.path), body);
}

describe('ImportState', () => {
  it('a fresh state writes nothing until something is recorded', async () => {
    const state = await ImportState.load(dir, 'abcdef0123');
    expect(state.done('build/x', 'x')).toBeUndefined();
    expect(await state.extracted(entry)).toBe(false);
    expect(() => readdirSync(dir)).toThrow(); // the folder does not even exist yet
  });

  it('remembers extracted files and done steps across loads; done steps come back as already', async () => {
    const state = await ImportState.load(dir, 'abcdef0123');
    writeMember(state, 'hello');
    await state.markExtracted(entry);
    await state.markDone('build/x', 'uno 0123');
    const again = await ImportState.load(dir, 'abcdef0123');
    expect(await again.extracted(entry)).toBe(true);
    expect(again.done('build/x', 'The build')).toEqual({
      part: 'build/x',
      title: 'The build',
      result: 'already',
      detail: 'uno 0123',
    });
    expect(readdirSync(dir).sort()).toEqual(['files', STATE_FILE]); // written atomically: no temp left
  });

  it('does not trust an extracted file that changed size, vanished, or was listed with another checksum', async () => {
    const state = await ImportState.load(dir, 'abcdef0123');
    writeMember(state, 'hello');
    await state.markExtracted(entry);
    expect(await state.extracted({ ...entry, sha256: 'b'.repeat(64) })).toBe(false);
    writeMember(state, 'hell');
    expect(await state.extracted(entry)).toBe(false);
    rmSync(state.pathOf(entry.path));
    expect(await state.extracted(entry)).toBe(false);
  });

  it('forgets the files but keeps the steps once the extracted folder is removed', async () => {
    const state = await ImportState.load(dir, 'abcdef0123');
    writeMember(state, 'hello');
    await state.markExtracted(entry);
    await state.markDone('build/x');
    await state.forgetFiles();
    const again = await ImportState.load(dir, 'abcdef0123');
    expect(await again.extracted(entry)).toBe(false);
    expect(again.done('build/x', 'x')?.result).toBe('already');
  });

  it("starts over on a damaged state file or another pack's", async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, STATE_FILE), '{"packId": "abcdef0123", "steps": ');
    expect((await ImportState.load(dir, 'abcdef0123')).done('build/x', 'x')).toBeUndefined();
    const other = await ImportState.load(dir, 'ffff00001111');
    await other.markDone('build/x');
    expect((await ImportState.load(dir, 'abcdef0123')).done('build/x', 'x')).toBeUndefined();
  });
});
