// The firmware capability: build the firmware for a board (config-free, cached), release it to a board
// (the build plus a profile's config stamped in memory) or flash a file as is.
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import {
  flashBoardFor,
  MakerdeckError,
  type CachedBuildView,
  type CompileImage,
  type CompileSummary,
  type FirmwareProgress,
  type FlashBoard,
  type FlashSummary,
  type ReleaseSummary,
} from '../../contract';
import type { Operation, Operations } from '../operations';
import type { Profiles } from '../profiles/profiles';
import { avrBoard } from './avrBoards';
import { BOOT_CHECK_MS, checkBoot } from './bootCheck';
import { flashAvr } from './avrFlasher';
import { locateArduinoCli, type ArduinoCliSearch } from './arduinoCli';
import { listCachedBuilds } from './buildCache';
import { compileSketch, type CompileOutcome } from './compile';
import { encodeConfigBlock, RELEASE_STAMP_SIZE } from './release/configBlock';
import { espImageFromFile, flashEsp } from './esp/espFlasher';
import { FirmwareUploads, type UploadedFile } from './firmwareUploads';
import { parseIntelHex } from './intelHex';
import { releaseLogin, type DeviceLoginSource } from './release/releaseLogin';
import { stampRelease } from './release/stampRelease';

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
  /** arduino-cli's config file, looked up per build (a lab pack import may add one); none: its default. */
  arduinoCliConfig?: () => Promise<string | undefined>;
  sketchDir: string;
  buildCacheDir: string;
  /** Device logins on the local stack: a release of a profile that logs in as its device's own user. */
  deviceLogins?: DeviceLoginSource;
  /** How long a released board has to report its id (default BOOT_CHECK_MS). */
  bootCheckMs?: number;
  emit(progress: FirmwareProgress): void;
}

/** A file as is, the profile's release of the cached build, or the profile's release of an uploaded build. */
export type FlashSource =
  | { profile: string }
  | { uploadId: string }
  | { profile: string; uploadId: string }
  | { profile: string; as: ReleaseAs };

/**
 * A release of a template profile as another device (a lab's seat): the profile's Wi-Fi and broker
 * settings, this device id and board; `ownLogin` stamps the device's own broker user (local stack).
 */
export interface ReleaseAs {
  deviceId: string;
  fqbn: string;
  ownLogin: boolean;
}

/** Moved to the contract, so the pages pick the same board; kept here for the CLI. */
export { flashBoardFor };

export class FirmwareService {
  /** Files sent in chunks (firmware.upload*) wait here for the flash that takes them. */
  readonly uploads = new FirmwareUploads();

  constructor(private readonly deps: FirmwareDeps) {}

  compile(args: { operationId?: string; board: string }): Promise<CompileSummary> {
    return this.deps.operations.run(args.operationId, async (operation) => {
      const { image, imagePath, ...summary } = await this.build(operation, args.board);
      return { ...summary, fqbn: args.board, ...(image && { image: describeImage(image, imagePath) }) };
    });
  }

  /** The builds in the build cache, newest first (what a lab pack can carry). */
  builds(): Promise<CachedBuildView[]> {
    return listCachedBuilds(this.deps.buildCacheDir);
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
      const uploadId = 'uploadId' in source ? source.uploadId : undefined;
      const release =
        'profile' in source
          ? await this.release(operation, source.profile, args.board, uploadId, 'as' in source ? source.as : undefined)
          : undefined;
      const image = release?.image ?? fileImage(this.uploads.take(uploadId!));
      const started = Date.now();
      let written: Flashed;
      try {
        written = await this.write(operation, args, image);
      } finally {
        if (release) image.data.fill(0); // the stamped image holds the profile's secrets: memory only, briefly
      }
      const ms = Date.now() - started;
      const boot = release && (await this.bootCheck(operation, args, release.summary));
      this.progress(operation, { phase: 'done', bytesDone: written.bytes, bytesTotal: written.bytes });
      return {
        board: args.board,
        port: args.port,
        bytes: written.bytes,
        ms,
        verified: true,
        ...(written.loader ? { loader: written.loader } : {}),
        ...(release ? { release: release.summary } : {}),
        ...(boot ? { boot } : {}),
      };
    });
  }

  /** After a release: the board must report the id and build just released (bootCheck.ts). */
  private async bootCheck(operation: Operation, args: { port: string; board: FlashBoard }, release: ReleaseSummary) {
    const seconds = Math.round((this.deps.bootCheckMs ?? BOOT_CHECK_MS) / 1000);
    this.progress(operation, {
      phase: 'boot',
      message: `Waiting up to ${seconds} s for ${release.deviceId} to report`,
    });
    return checkBoot({
      port: args.port,
      // An uploaded build's hash is only known once the board prints it.
      expected: { deviceId: release.deviceId, ...(release.file ? {} : { buildHash: release.buildHash }) },
      resetWithRts: avrBoard(args.board) === undefined,
      timeoutMs: this.deps.bootCheckMs,
      signal: operation.signal,
    });
  }

  private async build(operation: Operation, fqbn: string): Promise<CompileOutcome> {
    const arduinoCli = await locateArduinoCli(this.deps.arduinoCli);
    if (!arduinoCli)
      throw new MakerdeckError(
        'UNAVAILABLE',
        'arduino-cli was not found: install it or set MAKERDECK_ARDUINO_CLI (the doctor shows where Makerdeck looks)',
      );
    this.progress(operation, { phase: 'compile', message: `Building for ${fqbn}` });
    return compileSketch({
      arduinoCli: arduinoCli.path,
      configFile: await this.deps.arduinoCliConfig?.(),
      sketchDir: this.deps.sketchDir,
      fqbn,
      buildCacheDir: this.deps.buildCacheDir,
      signal: operation.signal,
    });
  }

  /**
   * A release: the profile's config encoded first (a value that does not fit fails here, before any
   * build or port), then the build (cached or fresh, or the uploaded one: a Makerdeck build made
   * elsewhere), then the block stamped into a copy in memory.
   */
  private async release(
    operation: Operation,
    profileRef: string,
    board: FlashBoard,
    uploadId?: string,
    as?: ReleaseAs,
  ): Promise<{ image: FirmwareImage; summary: ReleaseSummary }> {
    const profile = releasedAs(await this.deps.profiles.get(profileRef), as, this.deps.deviceLogins);
    if (flashBoardFor(profile.board) !== board)
      throw new MakerdeckError(
        'BAD_INPUT',
        `The profile builds for ${profile.board}, not for a ${board}: pick the profile's board or change the profile`,
      );
    const secrets = await this.deps.profiles.secretsOf(profile.id);
    const login = await releaseLogin(this.deps.deviceLogins, profile);
    const block = encodeConfigBlock(
      {
        deviceId: profile.deviceId,
        wifiSsid: profile.wifiSsid,
        wifiPassword: secrets.wifiPassword ?? '',
        mqttHost: profile.mqttHost,
        mqttPort: profile.mqttPort,
        mqttTls: profile.mqttTls,
        mqttUsername: login?.username ?? profile.mqttUsername,
        mqttPassword: login?.password ?? secrets.mqttPassword ?? '',
        intervalS: profile.telemetryIntervalS,
      },
      randomBytes(RELEASE_STAMP_SIZE),
    ); // every flash is a new release: values set on the board since are void
    try {
      const build = uploadId
        ? uploadedBuild(this.uploads.take(uploadId))
        : await this.cachedBuild(operation, profile.board);
      this.progress(operation, { phase: 'stamp', message: `Stamping ${profile.deviceId}'s config into the build` });
      return {
        image: { format: build.image.format, data: stampRelease(build.image, board, block) },
        summary: {
          deviceId: profile.deviceId,
          ...build.about,
          ...(login && { brokerUser: login.username }),
          ...(login?.notice && { brokerNotice: login.notice }),
        },
      };
    } finally {
      block.fill(0);
    }
  }

  private async cachedBuild(operation: Operation, fqbn: string): Promise<ReleaseBuild> {
    const outcome = await this.build(operation, fqbn);
    if (!outcome.success || !outcome.image) throw buildFailed(outcome);
    const buildHash = outcome.buildHash ?? 'unknown';
    const how = outcome.cached ? 'from the build cache' : `compiled in ${(outcome.ms / 1000).toFixed(1)} s`;
    this.progress(operation, {
      phase: 'compile',
      message: `Build ${buildHash} ${how}`,
      build: { cached: outcome.cached, buildHash },
    });
    return { image: outcome.image, about: { buildHash, cached: outcome.cached } };
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

/** The profile as released for another device: its id, board and (on the local stack) its own broker user. */
function releasedAs<P extends { deviceId: string; board: string; mqttUsername: string }>(
  profile: P,
  as: ReleaseAs | undefined,
  logins: DeviceLoginSource | undefined,
): P {
  if (!as) return profile;
  const mqttUsername = as.ownLogin && logins ? logins.username(as.deviceId) : profile.mqttUsername;
  return { ...profile, deviceId: as.deviceId, board: as.fqbn, mqttUsername };
}

/** Where a build's image is: its file in the build cache (it holds no secret), or why there is none. */
function describeImage(image: FirmwareImage, imagePath: string | undefined): CompileImage {
  const about = {
    format: image.format,
    bytes: image.data.length,
    sha256: createHash('sha256').update(image.data).digest('hex'),
  };
  return imagePath
    ? { ...about, path: imagePath }
    : { ...about, note: "held in memory only: the board core's version is unknown, so the build was not cached" };
}

function buildFailed(outcome: CompileOutcome): MakerdeckError {
  const first = outcome.diagnostics.find((d) => d.severity === 'error');
  return new MakerdeckError(
    'BAD_INPUT',
    first
      ? `The firmware does not compile: ${first.file}:${first.line}: ${first.message}`
      : `The firmware did not build: ${outcome.error ?? 'see the build output'}`,
  );
}

/** The build a release stamps, and what the summary says about it. */
interface ReleaseBuild {
  image: FirmwareImage;
  about: { buildHash: string; cached: boolean; file?: string };
}

/** An uploaded build: its hash is whatever the firmware prints at boot, unknown here. */
function uploadedBuild(file: UploadedFile): ReleaseBuild {
  return { image: fileImage(file), about: { buildHash: 'unknown', cached: false, file: file.fileName } };
}

function fileImage(file: UploadedFile): FirmwareImage {
  const format = /\.hex$/i.test(file.fileName) ? 'hex' : /\.bin$/i.test(file.fileName) ? 'bin' : undefined;
  if (!format) {
    throw new MakerdeckError('BAD_INPUT', `${file.fileName} is neither Intel HEX (.hex) nor a binary image (.bin)`);
  }
  return { format, data: file.data };
}

/** Where arduino-cli build paths and the cached images are kept (builds hold no secret). */
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
