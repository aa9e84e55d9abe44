// Makerdeck's own arduino-cli home in the data folder, filled by a lab pack import:
// `<dataDir>/arduino-cli/arduino-cli.yaml`, its data, downloads and user folders, and the pack's
// binary under `bin/<platform>-<arch>/`. The host uses that configuration whenever
// MAKERDECK_ARDUINO_CLI_CONFIG is unset and the file exists, looked up per call so an import in a
// running app takes effect at once.
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { writeAtomic } from '../settings/writeAtomic';

export interface ArduinoCliHome {
  dir: string;
  configFile: string;
  data: string;
  downloads: string;
  user: string;
  /** Where the board indexes an offline install reads are kept (the folder BoardCores.installFrom copies to). */
  indexes: string;
}

/** The layout of the data folder's arduino-cli home. */
export function arduinoCliHome(dataDir: string): ArduinoCliHome {
  const dir = path.join(dataDir, 'arduino-cli');
  const data = path.join(dir, 'data');
  return {
    dir,
    configFile: path.join(dir, 'arduino-cli.yaml'),
    data,
    downloads: path.join(dir, 'staging'),
    user: path.join(dir, 'user'),
    indexes: path.join(data, 'makerdeck-indexes'),
  };
}

/** The data folder's arduino-cli binary for a target (`linux-x64`, …; default: this machine). */
export function dataFolderArduinoCliPath(dataDir: string, target = `${process.platform}-${process.arch}`): string {
  const exe = target.startsWith('win32') ? 'arduino-cli.exe' : 'arduino-cli';
  return path.join(arduinoCliHome(dataDir).dir, 'bin', target, exe);
}

/**
 * The arduino-cli configuration to use now: MAKERDECK_ARDUINO_CLI_CONFIG when set, else the data
 * folder's when it exists, else none (arduino-cli's own default).
 */
export async function arduinoCliConfigFor(env: NodeJS.ProcessEnv, dataDir: string): Promise<string | undefined> {
  if (env.MAKERDECK_ARDUINO_CLI_CONFIG) return env.MAKERDECK_ARDUINO_CLI_CONFIG;
  const { configFile } = arduinoCliHome(dataDir);
  try {
    await access(configFile, constants.R_OK);
    return configFile;
  } catch {
    return undefined;
  }
}

/**
 * The configuration's text: the home's folders, `indexUrls` as additional board-manager URLs, no
 * update notification or metrics (nothing reaches for the network by itself).
 */
export function arduinoCliConfigText(home: ArduinoCliHome, indexUrls: string[]): string {
  return stringify({
    board_manager: { additional_urls: indexUrls },
    directories: { data: home.data, downloads: home.downloads, user: home.user },
    metrics: { enabled: false },
    updater: { enable_notification: false },
  });
}

/**
 * Writes the home's configuration atomically, keeping the board-manager URLs it already lists
 * (an earlier pack's, or one added with `makerdeck boards index --add`) and adding the kept copies
 * of `indexNames`. Returns whether the file changed.
 */
export async function writeArduinoCliConfig(home: ArduinoCliHome, indexNames: string[]): Promise<boolean> {
  const before = await readFile(home.configFile, 'utf8').catch(() => undefined);
  const urls = [...existingUrls(before)];
  for (const name of indexNames) {
    const url = pathToFileURL(path.join(home.indexes, name)).href;
    if (!urls.includes(url)) urls.push(url);
  }
  const text = arduinoCliConfigText(home, urls);
  if (text === before) return false;
  await writeAtomic(home.configFile, text);
  return true;
}

/** The additional URLs of a configuration arduino-cli may have rewritten; nothing from an unreadable one. */
function existingUrls(text: string | undefined): string[] {
  if (!text) return [];
  try {
    const urls = (parse(text) as { board_manager?: { additional_urls?: unknown } } | null)?.board_manager
      ?.additional_urls;
    return Array.isArray(urls) ? urls.filter((u): u is string => typeof u === 'string') : [];
  } catch {
    return [];
  }
}
