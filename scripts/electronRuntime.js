// Where the Electron runtime is, or why there is none. On machines that cannot reach Electron's
// download host, `npm ci` installs the electron package without its binary.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const requireCjs = createRequire(import.meta.url);

/** @returns {{ path: string } | { reason: string }} */
export function findElectron() {
  try {
    const binary = requireCjs('electron');
    if (typeof binary === 'string' && existsSync(binary)) return { path: binary };
    return { reason: `the Electron binary is missing at ${binary}` };
  } catch {
    return { reason: 'npm installed the electron package without its binary, whose download host is unreachable here' };
  }
}
