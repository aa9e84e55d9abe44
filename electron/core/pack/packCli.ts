// The arduino-cli a pack is made from: the one Makerdeck uses (its configuration looked up per call,
// as the board cores do), asked for its version, installed cores and libraries, folders, and to
// download a core's archives.
import { MakerdeckError } from '../../contract';
import { failureLine, parseJson, runArduinoCli, type ArduinoCliResult } from '../boards/arduinoCliRunner';
import { arduinoCliVersion, locateArduinoCli, type ArduinoCliSearch } from '../firmware/arduinoCli';

export interface InstalledLibrary {
  name: string;
  version?: string;
  dir: string;
}

export class PackCli {
  constructor(
    private readonly search: ArduinoCliSearch,
    private readonly configFile: () => Promise<string | undefined>,
  ) {}

  /** The binary Makerdeck runs and its version; throws UNAVAILABLE with the fix when there is none. */
  async binary(signal?: AbortSignal): Promise<{ path: string; version: string }> {
    const found = await this.located();
    return { path: found.path, version: await arduinoCliVersion(found.path, signal) };
  }

  /** Installed cores: id → installed version. */
  async installedCores(): Promise<Map<string, string>> {
    const listed = parseJson<{ platforms?: Array<{ id: string; installed_version?: string }> | null }>(
      await this.run(['core', 'list', '--format', 'json']),
      'core list',
    );
    return new Map(
      (listed.platforms ?? []).flatMap((p) => (p.installed_version ? [[p.id, p.installed_version] as const] : [])),
    );
  }

  async installedLibraries(): Promise<InstalledLibrary[]> {
    const listed = parseJson<{
      installed_libraries?: Array<{ library?: { name?: string; version?: string; install_dir?: string } }> | null;
    }>(await this.run(['lib', 'list', '--format', 'json']), 'lib list');
    return (listed.installed_libraries ?? []).flatMap(({ library }) =>
      library?.name && library.install_dir
        ? [{ name: library.name, version: library.version || undefined, dir: library.install_dir }]
        : [],
    );
  }

  /** An arduino-cli folder as its configuration resolves it. */
  async directory(which: 'data' | 'downloads'): Promise<string> {
    const get = async (key: string) =>
      parseJson<string>(await this.run(['config', 'get', `directories.${key}`, '--format', 'json']), 'config get');
    const data = await get('data');
    if (!data) throw new MakerdeckError('UNAVAILABLE', 'arduino-cli names no data directory: check its configuration');
    if (which === 'data') return data;
    return (await get('downloads')) || `${data}/staging`; // arduino-cli's own default
  }

  /** Downloads a core's platform and tool archives into the downloads folder (nothing is installed). */
  async downloadCore(spec: string, signal?: AbortSignal): Promise<void> {
    const result = await this.run(['core', 'download', spec], signal);
    if (result.code !== 0)
      throw new MakerdeckError(
        'UNAVAILABLE',
        `arduino-cli could not download ${spec} (${failureLine(result)}): connect to the network, or install the core again`,
      );
  }

  private async run(args: string[], signal?: AbortSignal): Promise<ArduinoCliResult> {
    const { path } = await this.located();
    return runArduinoCli({ binary: path, configFile: await this.configFile(), signal }, args);
  }

  private async located() {
    const found = await locateArduinoCli(this.search);
    if (!found)
      throw new MakerdeckError(
        'UNAVAILABLE',
        'arduino-cli was not found: install it or set MAKERDECK_ARDUINO_CLI (the doctor shows where Makerdeck looks)',
      );
    return found;
  }
}
