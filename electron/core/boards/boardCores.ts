// The board cores capability: arduino-cli's platforms (arduino:avr, esp32:esp32, …) listed, installed
// from the board-manager indexes with download progress, installed from a folder for offline labs,
// removed, and the indexes updated. arduino-cli does the downloading and verifies every archive's
// size and checksum against its index; Makerdeck streams its progress and turns its errors into one
// line with the fix.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  MakerdeckError,
  type BoardCoreView,
  type BoardsIndexSummary,
  type BoardsInstallSummary,
  type BoardsProgress,
} from '../../contract';
import { locateArduinoCli, type ArduinoCliSearch } from '../firmware/arduinoCli';
import type { Operation, Operations } from '../operations';
import { failureLine, parseJson, runArduinoCli, type ArduinoCliResult, type ArduinoCliRun } from './arduinoCliRunner';
import { CoreInstallOutput, type CoreInstallEvent } from './coreInstallOutput';
import { openOfflineFolder, verifyArchive, type OfflineFolder } from './offlineFolder';

export interface BoardCoresDeps {
  arduinoCli: ArduinoCliSearch;
  /** arduino-cli's config file, looked up per command (a lab pack import may add one); none: its default. */
  arduinoCliConfig?: () => Promise<string | undefined>;
  operations: Operations;
  emit(progress: BoardsProgress): void;
}

interface ListedPlatform {
  id: string;
  installed_version?: string;
  latest_version?: string;
  maintainer?: string;
  releases?: Record<string, { name?: string; boards?: Array<{ name: string }> }>;
}

export class BoardCores {
  constructor(private readonly deps: BoardCoresDeps) {}

  /** Installed cores; with `all`, also those the indexes offer. */
  async list(all = false): Promise<BoardCoreView[]> {
    const result = await this.cli(['core', 'list', ...(all ? ['--all'] : []), '--format', 'json']);
    const { platforms } = parseJson<{ platforms?: ListedPlatform[] | null }>(result, 'core list');
    return (platforms ?? []).map(view).sort((a, b) => a.id.localeCompare(b.id));
  }

  install(args: { operationId?: string; core: string; version?: string }): Promise<BoardsInstallSummary> {
    return this.deps.operations.run(args.operationId, async (operation) => {
      const started = Date.now();
      const spec = args.version ? `${args.core}@${args.version}` : args.core;
      const downloaded = await this.installOne(operation, spec);
      this.progress(operation, { phase: 'done', item: spec, message: 'installed' });
      return {
        installed: [await this.installedSpec(args.core)],
        ms: Date.now() - started,
        downloadedBytes: downloaded,
      };
    });
  }

  /** Installs from a folder or archive: its archives go to arduino-cli's downloads folder, its index is kept. */
  installFrom(args: { operationId?: string; path: string; core?: string }): Promise<BoardsInstallSummary> {
    return this.deps.operations.run(args.operationId, async (operation) => {
      const started = Date.now();
      const folder = await openOfflineFolder(path.resolve(args.path), operation.signal);
      try {
        const cores = chooseCores(folder, args.core);
        await this.stage(operation, folder);
        let downloaded = 0;
        for (const core of cores) downloaded += await this.installOne(operation, core);
        this.progress(operation, { phase: 'done', message: `${cores.join(', ')} installed` });
        return { installed: cores, ms: Date.now() - started, downloadedBytes: downloaded };
      } finally {
        await folder.close();
      }
    });
  }

  async remove(core: string): Promise<{ removed: string }> {
    const result = await this.cli(['core', 'uninstall', core]);
    if (result.code !== 0) {
      const line = failureLine(result);
      if (/not installed|not found/i.test(line))
        throw new MakerdeckError('NOT_FOUND', `${core} is not installed (makerdeck boards list shows what is)`);
      throw new MakerdeckError('UNAVAILABLE', `arduino-cli could not remove ${core}: ${line}`);
    }
    return { removed: core };
  }

  /** Downloads every index again; the ones that could not be reached are listed, not fatal, unless all failed. */
  async updateIndex(signal?: AbortSignal): Promise<BoardsIndexSummary> {
    const output = new CoreInstallOutput();
    const events: CoreInstallEvent[] = [];
    const result = await this.cli(['core', 'update-index'], {
      signal,
      onStdout: (c) => events.push(...output.push(c)),
    });
    events.push(...output.end());
    // arduino-cli may report an index twice (once as it starts, once as it updates): the last word counts.
    const outcome = new Map<string, string | undefined>();
    for (const event of events)
      if (event.kind === 'index' && !event.index.startsWith('library_index'))
        outcome.set(event.index, event.ok ? undefined : (event.error ?? 'failed'));
    const summary: BoardsIndexSummary = { updated: [], failed: [] };
    for (const [index, error] of outcome)
      if (error === undefined) summary.updated.push(index);
      else summary.failed.push({ index, error });
    if (result.code !== 0 && summary.updated.length === 0)
      throw new MakerdeckError(
        'UNAVAILABLE',
        `No board index could be downloaded (${summary.failed[0]?.error ?? failureLine(result)}): check the network, or install from a folder (makerdeck boards install --from PATH)`,
      );
    return summary;
  }

  /** Adds a board-manager index URL to arduino-cli's configuration (once), then downloads the indexes. */
  async addIndex(url: string): Promise<BoardsIndexSummary & { url: string }> {
    await this.addIndexUrl(url);
    return { url, ...(await this.updateIndex()) };
  }

  private async addIndexUrl(url: string): Promise<void> {
    const current = parseJson<string[] | null>(
      await this.cli(['config', 'get', 'board_manager.additional_urls', '--format', 'json']),
      'config get',
    );
    if ((current ?? []).includes(url)) return;
    const added = await this.cli(['config', 'add', 'board_manager.additional_urls', url]);
    if (added.code !== 0)
      throw new MakerdeckError(
        'UNAVAILABLE',
        `arduino-cli could not add the index URL: ${failureLine(added)} (check that its configuration file, MAKERDECK_ARDUINO_CLI_CONFIG or arduino-cli's default, is writable)`,
      );
  }

  /** Verifies the folder's archives (all before any is copied), copies them into arduino-cli's downloads folder and adds a copy of its index. */
  private async stage(operation: Operation, folder: OfflineFolder): Promise<void> {
    for (const archive of folder.archives) {
      this.progress(operation, { phase: 'prepare', item: archive.name, message: 'checking' });
      await verifyArchive(archive, operation.signal);
    }
    const downloads = path.join(await this.directory('downloads'), 'packages');
    await mkdir(downloads, { recursive: true });
    for (const archive of folder.archives) await copyFile(archive.file, path.join(downloads, archive.name));
    // The index is read in place from a file:// URL: keep a copy, so the folder (a USB stick) may go.
    const kept = path.join(await this.directory('data'), 'makerdeck-indexes');
    await mkdir(kept, { recursive: true });
    for (const index of folder.indexes) {
      const copy = path.join(kept, index.name);
      await copyFile(index.file, copy);
      await this.addIndexUrl(pathToFileURL(copy).href);
    }
  }

  /** Runs `core install SPEC`, streaming its progress; resolves with the bytes downloaded. */
  private async installOne(operation: Operation, spec: string): Promise<number> {
    const output = new CoreInstallOutput();
    const onEvents = (events: CoreInstallEvent[]) => events.forEach((e) => this.relay(operation, e));
    this.progress(operation, { phase: 'prepare', item: spec, message: 'starting' });
    const result = await this.cli(['core', 'install', spec], {
      signal: operation.signal,
      onStdout: (chunk) => onEvents(output.push(chunk)),
    });
    onEvents(output.end());
    if (result.code !== 0) throw installError(spec, failureLine(result));
    return output.downloadedBytes;
  }

  private relay(operation: Operation, event: CoreInstallEvent): void {
    if (event.kind === 'download')
      this.progress(operation, {
        phase: 'download',
        item: event.item,
        bytesDone: event.bytesDone,
        bytesTotal: event.bytesTotal,
      });
    else if (event.kind === 'downloaded')
      this.progress(operation, {
        phase: 'download',
        item: event.item,
        message: event.cached ? 'already downloaded' : 'downloaded',
      });
    else if (event.kind === 'installing')
      this.progress(operation, { phase: 'install', item: event.item, message: 'installing' });
    else if (event.kind === 'installed')
      this.progress(operation, { phase: 'install', item: event.item, message: 'installed' });
  }

  private async installedSpec(core: string): Promise<string> {
    const found = (await this.list()).find((c) => c.id === core);
    return found?.installed ? `${core}@${found.installed}` : core;
  }

  /** An arduino-cli directory (data, downloads) as its configuration resolves it. */
  private async directory(which: 'data' | 'downloads'): Promise<string> {
    const get = async (key: string) =>
      parseJson<string>(await this.cli(['config', 'get', `directories.${key}`, '--format', 'json']), 'config get');
    if (which === 'downloads') {
      const downloads = await get('downloads');
      if (downloads) return downloads;
      return path.join(await this.directory('data'), 'staging'); // arduino-cli's own default
    }
    const data = await get('data');
    if (!data) throw new MakerdeckError('UNAVAILABLE', 'arduino-cli names no data directory: check its configuration');
    return data;
  }

  private async cli(args: string[], run: Partial<ArduinoCliRun> = {}): Promise<ArduinoCliResult> {
    const found = await locateArduinoCli(this.deps.arduinoCli);
    if (!found)
      throw new MakerdeckError(
        'UNAVAILABLE',
        'arduino-cli was not found: install it or set MAKERDECK_ARDUINO_CLI (the doctor shows where Makerdeck looks)',
      );
    const configFile = await this.deps.arduinoCliConfig?.();
    return runArduinoCli({ ...run, binary: found.path, configFile }, args);
  }

  private progress(operation: Operation, progress: Omit<BoardsProgress, 'operationId'>): void {
    this.deps.emit({ operationId: operation.id, ...progress });
  }
}

function view(platform: ListedPlatform): BoardCoreView {
  const installed = platform.installed_version || undefined;
  const latest = platform.latest_version || undefined;
  const release = platform.releases?.[installed ?? latest ?? ''];
  return {
    id: platform.id,
    name: release?.name ?? platform.id,
    installed,
    latest,
    maintainer: platform.maintainer || undefined,
    boards: (release?.boards ?? []).map((b) => b.name),
  };
}

function chooseCores(folder: OfflineFolder, core: string | undefined): string[] {
  if (!core) {
    if (folder.cores.length === 0) throw new MakerdeckError('BAD_INPUT', `The index in ${folder.dir} offers no core`);
    return folder.cores;
  }
  const found = folder.cores.find((spec) => spec.startsWith(`${core}@`));
  if (!found)
    throw new MakerdeckError(
      'NOT_FOUND',
      `The index in ${folder.dir} does not offer ${core}; it offers ${folder.cores.join(', ') || 'nothing'}`,
    );
  return [found];
}

/** arduino-cli's reason → one line with the fix. */
function installError(spec: string, line: string): MakerdeckError {
  if (/hash differs|checksum|archive size|integrity/i.test(line))
    return new MakerdeckError(
      'UNAVAILABLE',
      `An archive of ${spec} does not match its size or checksum in the board index (${line}): the download or the index is damaged; update the index (makerdeck boards index) and install again`,
    );
  if (/not found|no .*index|unknown package/i.test(line))
    return new MakerdeckError(
      'NOT_FOUND',
      `No board index offers ${spec} (${line}): add its index with makerdeck boards index --add URL, or install from a folder with --from PATH`,
    );
  if (/dial tcp|no such host|connection refused|timeout|Server responded|Get "/i.test(line))
    return new MakerdeckError(
      'UNAVAILABLE',
      `Could not download ${spec} (${line}): check the network, or install from a folder (makerdeck boards install --from PATH)`,
    );
  return new MakerdeckError('UNAVAILABLE', `arduino-cli could not install ${spec}: ${line}`);
}
