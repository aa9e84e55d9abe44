// Reads a profile export file for `makerdeck profile import`, refusing anything that cannot be one
// (a folder, a device, a 600 MB disk image) from its size alone, before a byte is read.
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { MakerdeckError, PROFILE_FILE_MAX_BYTES, PROFILE_FILE_TOO_LARGE } from '../contract';

/** The file's text; BAD_INPUT when it is not a regular file or is over PROFILE_FILE_MAX_BYTES. */
export async function readProfileFile(file: string): Promise<string> {
  checkShape(file, await stat(file).catch((error: NodeJS.ErrnoException) => cannotRead(file, error)));
  // O_NONBLOCK: a FIFO swapped in after the stat must not hang the open.
  const flags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
  const handle = await open(file, flags).catch((error: NodeJS.ErrnoException) => cannotRead(file, error));
  try {
    checkShape(file, await handle.stat());
    // One byte over the cap tells a file that grew after the stat from one that fits.
    const buffer = Buffer.alloc(PROFILE_FILE_MAX_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > PROFILE_FILE_MAX_BYTES) throw tooLarge(file, length);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}

function checkShape(file: string, info: { isFile(): boolean; size: number }): void {
  if (!info.isFile())
    throw new MakerdeckError('BAD_INPUT', `${file} is not a file: give the path of an exported profile (.json)`);
  if (info.size > PROFILE_FILE_MAX_BYTES) throw tooLarge(file, info.size);
}

function tooLarge(file: string, size: number): MakerdeckError {
  return new MakerdeckError('BAD_INPUT', `${file} is ${describeSize(size)}; ${PROFILE_FILE_TOO_LARGE}`);
}

/** Bytes up to 10 MB (so 262,145 is not shown as "0 MB"), then whole MB. */
function describeSize(size: number): string {
  return size < 10_000_000
    ? `${size.toLocaleString('en-US')} bytes`
    : `${Math.round(size / 1_000_000).toLocaleString('en-US')} MB`;
}

function cannotRead(file: string, error: NodeJS.ErrnoException): never {
  throw new MakerdeckError(
    'NOT_FOUND',
    `Cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
  );
}
