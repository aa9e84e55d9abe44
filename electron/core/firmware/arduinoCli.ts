// Finding arduino-cli: bundled under resources/, a configured path, the data folder's (a lab pack's)
// or PATH — in that order, so a packaged app uses the version it was tested with.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { MakerdeckError } from '../../contract';
import { dataFolderArduinoCliPath } from './arduinoCliHome';

export type ArduinoCliSource = 'bundled' | 'configured' | 'data folder' | 'path';

export interface ArduinoCliLocation {
  path: string;
  source: ArduinoCliSource;
}

export interface ArduinoCliSearch {
  /** The app's resources folder; the binary lives at resources/arduino-cli/<platform>-<arch>/. */
  resourcesDir: string;
  /** A path the user configured (settings or MAKERDECK_ARDUINO_CLI). */
  configuredPath?: string;
  /** The data folder, whose arduino-cli/bin/<platform>-<arch>/ a lab pack import fills. */
  dataDir?: string;
  /** The PATH to search. */
  searchPath?: string;
}

const EXE = process.platform === 'win32' ? 'arduino-cli.exe' : 'arduino-cli';

export function bundledArduinoCliPath(resourcesDir: string): string {
  return path.join(resourcesDir, 'arduino-cli', `${process.platform}-${process.arch}`, EXE);
}

export async function locateArduinoCli(search: ArduinoCliSearch): Promise<ArduinoCliLocation | undefined> {
  const bundled = bundledArduinoCliPath(search.resourcesDir);
  if (await isExecutable(bundled)) return { path: bundled, source: 'bundled' };
  if (search.configuredPath) {
    if (await isExecutable(search.configuredPath)) return { path: search.configuredPath, source: 'configured' };
    throw new MakerdeckError(
      'NOT_FOUND',
      `The configured arduino-cli "${search.configuredPath}" does not exist or is not executable: fix the path in Settings or MAKERDECK_ARDUINO_CLI`,
    );
  }
  const packed = search.dataDir ? dataFolderArduinoCliPath(search.dataDir) : undefined;
  if (packed && (await isExecutable(packed))) return { path: packed, source: 'data folder' };
  for (const dir of (search.searchPath ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, EXE);
    if (await isExecutable(candidate)) return { path: candidate, source: 'path' };
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Asks the binary for its version (`arduino-cli version --format json`). */
export function arduinoCliVersion(binary: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      ['version', '--format', 'json'],
      { signal, timeout: 10_000, windowsHide: true },
      (error, stdout) => {
        if (error)
          return reject(new MakerdeckError('UNAVAILABLE', `${binary} did not run: ${error.message.split('\n')[0]}`));
        try {
          const parsed = JSON.parse(stdout) as { VersionString?: string; version?: string };
          const version = parsed.VersionString ?? parsed.version;
          if (!version) throw new Error('no VersionString');
          resolve(version);
        } catch {
          reject(
            new MakerdeckError(
              'UNAVAILABLE',
              `${binary} answered "version --format json" with something that is not arduino-cli's JSON`,
            ),
          );
        }
      },
    );
  });
}
