// What the test rigs share: where they cache what they build, and the Go toolchain they build with.
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the rigs are cached unless told otherwise: $MAKERDECK_RIG_CACHE or ~/.cache/makerdeck-rig. */
export function defaultRigCache() {
  return process.env.MAKERDECK_RIG_CACHE ?? path.join(os.homedir(), '.cache', 'makerdeck-rig');
}

/**
 * The `go` binary on PATH or in the usual install folders; `purpose` goes into the error.
 * @param {string} purpose
 */
export function findGo(purpose) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/local/go/bin', '/usr/lib/go/bin']);
  for (const dir of dirs) {
    const file = path.join(dir, 'go');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // keep looking
    }
  }
  throw new Error(`'go' not found on PATH nor in /usr/local/go/bin; it is needed ${purpose}`);
}
