// The environment of a test's own Makerdeck: data, caches and temporary files all under its scratch
// folder, so what it leaves behind (and any secret in it) is found there and nowhere else.
import { mkdirSync } from 'node:fs';
import path from 'node:path';

/** Data, cache and TMPDIR (so os.tmpdir() and the private build root) under `scratch`, over `base`. */
export function scratchEnv(scratch: string, base: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  mkdirSync(path.join(scratch, 'tmp'), { recursive: true });
  return {
    ...base,
    MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
    TMPDIR: path.join(scratch, 'tmp'),
  };
}
