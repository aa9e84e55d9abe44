// The uncompressed size of each compressed block (what the per-block write timeouts are scaled by),
// checked against an independent count: inflating each growing prefix of the stream with a sync flush.
import { randomBytes } from 'node:crypto';
import { constants, deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflatedBlockSizes } from '../../electron/core/firmware/esp/espStubWrite';

const BLOCK = 0x4000;

/** Uncompressed bytes decodable from the first `length` compressed bytes. */
const prefixOutput = (compressed: Buffer, length: number) =>
  inflateSync(compressed.subarray(0, length), { finishFlush: constants.Z_SYNC_FLUSH }).length;

describe('inflatedBlockSizes', () => {
  it('gives each 16 KB slice of a mixed image the bytes it inflates to', async () => {
    // random (incompressible), erased flash (0xff: ~1000:1) and text-like runs, as firmware mixes them
    const image = Buffer.concat([
      randomBytes(40_000),
      Buffer.alloc(300_000, 0xff),
      Buffer.from('temperature=21.5 humidity=40 '.repeat(3000)),
      randomBytes(9_999),
    ]);
    const compressed = deflateSync(image, { level: 9 });
    const sizes = await inflatedBlockSizes(new Uint8Array(compressed), BLOCK);
    expect(sizes).toHaveLength(Math.ceil(compressed.length / BLOCK));
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(image.length);
    let before = 0;
    sizes.forEach((size, seq) => {
      const upTo = seq === sizes.length - 1 ? image.length : prefixOutput(compressed, (seq + 1) * BLOCK);
      expect(size, `block ${seq}`).toBe(upTo - before);
      before = upTo;
    });
  });

  it('gives a stream shorter than one block a single size', async () => {
    const image = Buffer.alloc(4096, 0x5a);
    expect(await inflatedBlockSizes(new Uint8Array(deflateSync(image, { level: 9 })), BLOCK)).toEqual([4096]);
  });

  it('rejects a stream that is not zlib', async () => {
    // Fixed text, not random bytes: one random buffer in ~2,000 starts with a valid zlib header.
    await expect(inflatedBlockSizes(new Uint8Array(Buffer.from('not zlib '.repeat(12))), BLOCK)).rejects.toThrow();
  });
});
