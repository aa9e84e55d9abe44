// Counting and hashing bytes as they stream by: the pack writer, its member hashes and the import's
// arduino-cli step all need a size and a SHA-256 of what passed, without a second read.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Counts and hashes the bytes that pass through `through`, reporting the running count. */
export class ByteTally {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(private readonly onBytes?: (bytes: number) => void) {}

  /** A pipeline stage that passes every chunk on unchanged (bound: a stage is called without `this`). */
  readonly through = (input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> => this.count(input);

  private async *count(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      this.onBytes?.(this.bytes);
      yield chunk;
    }
  }

  /** The count and SHA-256 of everything that passed (call once, at the end). */
  result(): { bytes: number; sha256: string } {
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

/** A file's size and SHA-256, read once; `onBytes` hears the running count. Throws when it cannot be read. */
export async function hashFile(
  file: string,
  options: { signal?: AbortSignal; onBytes?: (bytes: number) => void } = {},
): Promise<{ bytes: number; sha256: string }> {
  const tally = new ByteTally(options.onBytes);
  // Read to the end: the tally sees every chunk on the way.
  for await (const chunk of tally.through(createReadStream(file, { signal: options.signal }))) void chunk;
  return tally.result();
}
