import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ByteTally, hashFile } from '../../electron/core/pack/byteTally';

const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-tally-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('ByteTally', () => {
  it('passes every chunk on unchanged and reports the running count, size and SHA-256', async () => {
    const chunks = [Buffer.from('first '), Buffer.alloc(70_000, 7), Buffer.from('last')];
    const seen: number[] = [];
    const tally = new ByteTally((bytes) => seen.push(bytes));
    const out: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (out.push(chunk), done()) });
    await pipeline(Readable.from(chunks), tally.through, sink);
    const all = Buffer.concat(chunks);
    expect(Buffer.concat(out).equals(all)).toBe(true);
    expect(seen.at(-1)).toBe(all.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(tally.result()).toEqual({ bytes: all.length, sha256: sha256(all) });
  });

  it('hashes a file in one read, and throws for one that is missing', async () => {
    const data = Buffer.alloc(200_000, 0xa5);
    const file = path.join(dir, 'member.bin');
    writeFileSync(file, data);
    const counts: number[] = [];
    expect(await hashFile(file, { onBytes: (b) => counts.push(b) })).toEqual({
      bytes: data.length,
      sha256: sha256(data),
    });
    expect(counts.at(-1)).toBe(data.length);
    await expect(hashFile(path.join(dir, 'missing.bin'))).rejects.toThrow(/ENOENT/);
  });
});
