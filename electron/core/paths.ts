// Where Makerdeck keeps its data and finds its bundled resources, for every host.
import { existsSync } from 'node:fs';
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

/**
 * The repository (or packaged app) root: the nearest folder above this module holding
 * package.json. Walking up works from the sources, from bundled chunks and from app.asar.
 */
export function appRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error('Makerdeck cannot find its own package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/**
 * resources/ next to the built app in a checkout, or MAKERDECK_RESOURCES_DIR (the tests point it at an
 * empty folder, so a bundled arduino-cli that `npm run dist` left there never stands in for theirs);
 * the packaged app passes process.resourcesPath instead.
 */
export function defaultResourcesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MAKERDECK_RESOURCES_DIR || path.join(appRoot(), 'resources');
}

/** The firmware sketch; MAKERDECK_FIRMWARE_DIR points at your own copy (it must hold firmware.ino). */
export function defaultFirmwareDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MAKERDECK_FIRMWARE_DIR || path.join(appRoot(), 'firmware');
}

export function defaultStackDir(): string {
  return path.join(appRoot(), 'stack');
}

export function rendererDir(): string {
  return path.join(appRoot(), 'out', 'renderer');
}
