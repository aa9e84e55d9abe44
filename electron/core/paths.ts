// Where Makerdeck keeps its data and finds its bundled resources, for every host.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The per-user data folder; MAKERDECK_DATA_DIR overrides it (tests, portable installs). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MAKERDECK_DATA_DIR) return env.MAKERDECK_DATA_DIR;
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Makerdeck');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Makerdeck');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'makerdeck');
}

/** The repository (or unpacked app) root: built code lives in <root>/out/<part>/. */
export function appRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** resources/ next to the built app in a checkout; the packaged app passes process.resourcesPath instead. */
export function defaultResourcesDir(): string {
  return path.join(appRoot(), 'resources');
}

export function rendererDir(): string {
  return path.join(appRoot(), 'out', 'renderer');
}
