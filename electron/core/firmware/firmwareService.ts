// The firmware capability: compile a profile's firmware, flash it (or a file) to a board.
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  flashBoardFor,
  MakerdeckError,
  type CompileImage,
  type CompileSummary,
  type FirmwareProgress,
  type FlashBoard,
  type FlashSummary,
} from '../../contract';
import type { Operation, Operations } from '../operations';
import type { Profiles } from '../profiles/profiles';
import { avrBoard } from './avrBoards';
import { flashAvr } from './avrFlasher';
import { locateArduinoCli, type ArduinoCliSearch } from './arduinoCli';
import { compileSketch, type CompileOutcome } from './compile';
import { espImageFromFile, flashEsp } from './esp/espFlasher';
import { FirmwareUploads, type UploadedFile } from './firmwareUploads';
import { parseIntelHex } from './intelHex';

/** What a flasher writes: raw bytes and, for Intel HEX, the parsed image. */
interface FirmwareImage {
  format: 'hex' | 'bin';
  data: Buffer;
}

export interface FirmwareDeps {
  profiles: Profiles;
  operations: Operations;
  /** The monitor gives up a port before it is flashed. */
  monitor: { release(path: string): Promise<void> };
  arduinoCli: ArduinoCliSearch;
  arduinoCliConfig?: string;
  sketchDir: string;
  buildCacheDir: string;
  emit(progress: FirmwareProgress): void;
}

export type FlashSource = { profile: string } | { uploadId: string };

/** Moved to the contract, so the pages pick the same board; kept here for the CLI. */
export { flashBoardFor };

export class FirmwareService {
  /** Files sent in chunks (firmware.upload*) wait here for the flash that takes them. */
  readonly uploads = new FirmwareUploads();

  constructor(private readonly deps: FirmwareDeps) {}

  compile(args: { operationId?: string; profile: string; board?: string }): Promise<CompileSummary> {
    return this.deps.operations.run(args.operationId, async (operation) => {
      const { outcome, fqbn, buildKey, holdsSecrets } = await this.build(operation, args.profile, args.board);
      const { image, ...summary } = outcome;
      const where = image && (await this.keepImage(image, buildKey, holdsSecrets, args.profile));
      return { ...summary, fqbn, ...(where && { image: where }) };
    });
  }

  /**
   * Where the built image is: a file (0600) in the cache when it holds no secret; otherwise in
   * memory only, since it carries the profile's passwords (they never go to disk), with how to flash it.
   */
  private async keepImage(
    image: FirmwareImage,
    buildKey: string,
    holdsSecrets: boolean,
    profile: string,
  ): Promise<CompileImage> {
    const file = path.join(path.dirname(this.deps.buildCacheDir), 'images', `${buildKey}.${image.format}`);
    const sha256 = createHash('sha256').update(image.data).digest('hex');
    const about = { format: image.format, bytes: image.data.length, sha256 };
    await rm(file, { force: true }); // an older build's file is never mistaken for this one
    if (holdsSecrets) {
      const flash = `makerdeck flash --profile ${JSON.stringify(profile)} --port PORT`;
      return { ...about, note: `held in memory only: it contains this profile's passwords; flash it with ${flash}` };
    }
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, image.data, { mode: 0o600 });
    return { ...about, path: file };
  }

  flash(args: {
    operationId?: string;
    port: string;
    board: FlashBoard;
    source: FlashSource;
    noStub?: boolean;
  }): Promise<FlashSummary> {
    return this.deps.operations.run(args.operationId, async (operation) => {
      const { source } = args;
      const image =
        'profile' in source
          ? await this.buildImage(operation, source.profile, args.board)
          : fileImage(this.uploads.take(source.uploadId));
      const started = Date.now();
      const { bytes, loader } = await this.write(operation, args, image);
      this.progress(operation, { phase: 'done', bytesDone: bytes, bytesTotal: bytes });
      return { board: args.board, port: args.port, bytes, ms: Date.now() - started, verified: true, loader };
    });
  }

  private async build(
    operation: Operation,
    profileRef: string,
    board?: string,
  ): Promise<{ outcome: CompileOutcome; fqbn: string; buildKey: string; holdsSecrets: boolean }> {
    const profile = await this.deps.profiles.get(profileRef);
    const fqbn = board ?? profile.board;
    const arduinoCli = await locateArduinoCli(this.deps.arduinoCli);
    if (!arduinoCli)
      throw new MakerdeckError(
        'UNAVAILABLE',
        'arduino-cli was not found: install it or set MAKERDECK_ARDUINO_CLI (the doctor shows where Makerdeck looks)',
      );
    const secrets = await this.deps.profiles.secretsOf(profile.id);
    const buildKey = `${profile.id}-${fqbn.replace(/[^A-Za-z0-9]+/g, '_')}`;
    this.progress(operation, { phase: 'compile', message: `Compiling for ${fqbn}` });
    const outcome = await compileSketch({
      arduinoCli: arduinoCli.path,
      configFile: this.deps.arduinoCliConfig,
      sketchDir: this.deps.sketchDir,
      fqbn,
      buildCacheDir: this.deps.buildCacheDir,
      buildKey,
      config: { profile, ...secrets },
      signal: operation.signal,
    });
    return { outcome, fqbn, buildKey, holdsSecrets: Object.values(secrets).some(Boolean) };
  }

  private async buildImage(operation: Operation, profileRef: string, board: FlashBoard): Promise<FirmwareImage> {
    const { outcome, fqbn } = await this.build(operation, profileRef);
    if (flashBoardFor(fqbn) !== board)
      throw new MakerdeckError(
        'BAD_INPUT',
        `The profile builds for ${fqbn}, not for a ${board}: pick the profile's board or change the profile`,
      );
    if (!outcome.success || !outcome.image) {
      const first = outcome.diagnostics.find((d) => d.severity === 'error');
      throw new MakerdeckError(
        'BAD_INPUT',
        first
          ? `The firmware does not compile: ${first.file}:${first.line}: ${first.message}`
          : `The firmware did not build: ${outcome.error ?? 'see the build output'}`,
      );
    }
    return outcome.image;
  }

  private async write(
    operation: Operation,
    { port, board, noStub }: { port: string; board: FlashBoard; noStub?: boolean },
    image: FirmwareImage,
  ): Promise<Flashed> {
    const flasher = prepareFlasher(port, board, image, operation.signal, noStub === true);
    await this.deps.monitor.release(port);
    this.progress(operation, { phase: 'connect', message: `Connecting to the bootloader on ${port}` });
    return flasher((p) => this.progress(operation, p));
  }

  private progress(operation: Operation, progress: Omit<FirmwareProgress, 'operationId'>): void {
    this.deps.emit({ operationId: operation.id, ...progress });
  }
}

type ProgressSink = (p: {
  phase: FirmwareProgress['phase'];
  bytesDone: number;
  bytesTotal: number;
  notice?: string;
}) => void;

/** What a flasher reports back: image bytes written and, for ESP boards, which loader wrote them. */
interface Flashed {
  bytes: number;
  loader?: 'stub' | 'rom';
}

/** Checks the image for the board first (a bad file never touches the port), then returns the flash step. */
function prepareFlasher(
  port: string,
  board: FlashBoard,
  image: FirmwareImage,
  signal: AbortSignal,
  noStub: boolean,
): (onProgress: ProgressSink) => Promise<Flashed> {
  const avr = avrBoard(board);
  if (avr) {
    if (noStub) throw new MakerdeckError('BAD_INPUT', `noStub (--no-stub) is for ESP32 boards, not the ${avr.name}`);
    if (image.format !== 'hex')
      throw new MakerdeckError('BAD_INPUT', `${avr.name} firmware is flashed from Intel HEX (.hex), not a .bin`);
    const parsed = parseIntelHex(image.data.toString('latin1'), avr.flashSize);
    return async (onProgress) => ({
      bytes: (await flashAvr({ port, board: avr, image: parsed, signal, onProgress })).bytes,
    });
  }
  const chip = board === 'esp8266' ? 'esp8266' : 'esp32';
  if (image.format !== 'bin')
    throw new MakerdeckError('BAD_INPUT', `${chip.toUpperCase()} firmware is flashed from a .bin image, not Intel HEX`);
  const part = espImageFromFile(new Uint8Array(image.data), chip);
  return async (onProgress) => {
    const done = await flashEsp({ port, chip, parts: [part], signal, onProgress, noStub });
    return { bytes: done.bytes, loader: done.loader };
  };
}

function fileImage(file: UploadedFile): FirmwareImage {
  const format = /\.hex$/i.test(file.fileName) ? 'hex' : /\.bin$/i.test(file.fileName) ? 'bin' : undefined;
  if (!format) {
    throw new MakerdeckError('BAD_INPUT', `${file.fileName} is neither Intel HEX (.hex) nor a binary image (.bin)`);
  }
  return { format, data: file.data };
}

/** Where arduino-cli build paths are kept (they hold no secret after a build). */
export function defaultBuildCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MAKERDECK_CACHE_DIR) return path.join(env.MAKERDECK_CACHE_DIR, 'builds');
  const base =
    process.platform === 'win32'
      ? (env.LOCALAPPDATA ?? os.tmpdir())
      : process.platform === 'darwin'
        ? path.join(os.homedir(), 'Library', 'Caches')
        : (env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'));
  return path.join(base, 'makerdeck', 'builds');
}
