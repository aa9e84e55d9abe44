// Compiling, flashing and the serial ports they use.
import { z } from 'zod';

export const FLASH_BOARDS = ['uno', 'nano', 'nano-old', 'esp32', 'esp8266'] as const;
export const FlashBoard = z.enum(FLASH_BOARDS, { error: `The board must be one of ${FLASH_BOARDS.join(', ')}` });
export type FlashBoard = z.infer<typeof FlashBoard>;

/** A client-chosen id that progress events carry and operations.cancel names. */
export const OperationId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'An operation id is 1 to 64 letters, digits, - or _');

/** A build is config-free: it takes the board (FQBN) only, never a profile. */
export const CompileArgs = z
  .object({
    operationId: OperationId.optional(),
    board: z.string().min(3, 'Name the board (FQBN) to build for, e.g. arduino:avr:uno').max(200),
  })
  .strict();

export interface CompileDiagnostic {
  file: string;
  line: number;
  column?: number;
  severity: 'error' | 'warning' | 'note';
  message: string;
  source?: string;
}

export interface CompileSummary {
  success: boolean;
  fqbn: string;
  diagnostics: CompileDiagnostic[];
  sizes: Array<{ name: string; size: number; max: number }>;
  ms: number;
  /** Why it failed when the code is not to blame (missing platform, …). */
  error?: string;
  /** Set when the board's core is not installed: `core-missing`, with the core and the command that installs it. */
  errorCode?: 'core-missing';
  missingCore?: { core: string; command: string };
  /** True when the image came from the build cache (same sources, board, core and arduino-cli): nothing compiled. */
  cached: boolean;
  /** The build's identity, printed by the firmware at boot. */
  buildHash?: string;
  /** Where the built image is, when the build succeeded. */
  image?: CompileImage;
}

export interface CompileImage {
  format: 'hex' | 'bin';
  bytes: number;
  sha256: string;
  /** The cached .hex/.bin file (0600, in the build cache: a build holds no secret). */
  path?: string;
  /** Otherwise why there is no file. */
  note?: string;
}

/** A build in the build cache, as firmware.builds lists it (what a lab pack can carry). */
export interface CachedBuildView {
  /** The first 16 hex digits of the key: what the firmware prints at boot and pack.plan takes. */
  buildHash: string;
  /** The whole key (SHA-256 of the sources, FQBN, core and arduino-cli versions). */
  key: string;
  fqbn: string;
  /** The board core's version it was built with (records written before this was kept have none). */
  coreVersion?: string;
  /** arduino-cli's version it was built with (likewise). */
  cliVersion?: string;
  format: 'hex' | 'bin';
  /** The image file's size. */
  bytes: number;
  /** When it was built (ISO 8601): the record's time, or its file's modification time. */
  builtAt: string;
}

/** Where a compile's image is, in words (the CLI and the Firmware page say the same). */
export function imageLocation(image: CompileImage): string {
  return `${image.path ?? image.note ?? 'held in memory only'} (${image.bytes} bytes, .${image.format})`;
}

/** The largest firmware file Makerdeck flashes (16 MiB: the biggest ESP32 flash chip). */
export const MAX_FIRMWARE_BYTES = 16 * 1024 * 1024;
/**
 * Firmware files reach the host in chunks of at most this many bytes (base64 in the request), so a
 * request stays far below a WebSocket frame (wire.ts WS_MAX_FRAME_BYTES) on every transport.
 */
export const FIRMWARE_CHUNK_BYTES = 192 * 1024;
const CHUNK_BASE64_CHARS = Math.ceil(FIRMWARE_CHUNK_BYTES / 3) * 4;

/** Chosen by the host at uploadBegin; unguessable, one upload each. */
export const UploadId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16,64}$/, 'An upload id is the one firmware.uploadBegin returned');

export const FirmwareUploadBeginArgs = z
  .object({
    fileName: z.string().min(1, 'Name the firmware file').max(255),
    bytes: z
      .number()
      .int()
      .min(1, 'The firmware file is empty')
      .max(MAX_FIRMWARE_BYTES, 'The firmware file is larger than 16 MiB'),
  })
  .strict();

export const FirmwareUploadChunkArgs = z
  .object({
    uploadId: UploadId,
    /** Where this chunk starts; chunks arrive in order, so it equals the bytes received so far. */
    offset: z.number().int().min(0).max(MAX_FIRMWARE_BYTES),
    dataBase64: z
      .string()
      .min(4, 'A chunk must hold at least one byte')
      .max(CHUNK_BASE64_CHARS, `A chunk holds at most ${FIRMWARE_CHUNK_BYTES / 1024} KiB`)
      .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'A chunk is standard base64'),
  })
  .strict();

export const FirmwareUploadFinishArgs = z
  .object({
    uploadId: UploadId,
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lower-case hex digits')
      .optional(),
  })
  .strict();

export interface FirmwareUploadStarted {
  uploadId: string;
  /** The largest chunk the host takes. */
  chunkBytes: number;
  /** An upload untouched this long is dropped. */
  idleMs: number;
}

export interface FirmwareUploadView {
  uploadId: string;
  fileName: string;
  bytes: number;
  received: number;
  /** Set once finished: the file is then ready for firmware.flash. */
  sha256?: string;
}

export const FlashSource = z.union([
  z.object({ profile: z.string().min(1) }).strict(),
  z.object({ uploadId: UploadId }).strict(),
  /** A release of an uploaded Makerdeck build: the profile's config stamped into that file, in memory. */
  z.object({ profile: z.string().min(1), uploadId: UploadId }).strict(),
]);

export const FlashArgs = z
  .object({
    operationId: OperationId.optional(),
    port: z.string().min(1, 'Pick the serial port of the board').max(255),
    board: FlashBoard,
    source: FlashSource,
    /** ESP32 only: flash with the ROM's own loader, never the flasher stub (slower). */
    noStub: z.boolean().optional(),
  })
  .strict();

export interface FlashSummary {
  board: FlashBoard;
  port: string;
  bytes: number;
  ms: number;
  verified: boolean;
  /** ESP boards: who wrote the flash, the flasher stub or the ROM's own loader. */
  loader?: 'stub' | 'rom';
  /** Set when a profile was flashed: the build (cached or fresh) with the profile's config stamped in. */
  release?: ReleaseSummary;
  /** Releases only: what the board printed at boot after the flash (a plain file has no id to expect). */
  boot?: BootCheck;
}

export interface ReleaseSummary {
  deviceId: string;
  buildHash: string;
  cached: boolean;
  /** Set when the build was an uploaded file (source {profile, uploadId}), not the build cache's. */
  file?: string;
  /** The device's own broker user on the local stack, when the profile logs in as it (stamped into the block). */
  brokerUser?: string;
  /** Set when that user could not be checked on the broker (stack down): the keychain's login was stamped. */
  brokerNotice?: string;
}

/**
 * The boot check: the board reported the released id and build, or it said nothing within the
 * window (the write itself succeeded; `message` says what to check). A different id or build is an error.
 */
export type BootCheck =
  | { reported: true; deviceId: string; buildHash: string; ms: number }
  | { reported: false; waitedMs: number; message: string };

/** The flash phases in order, as the Firmware page lists them ('compile' is the build, 'boot' the boot check). */
export const RELEASE_PHASES = ['compile', 'stamp', 'connect', 'write', 'verify', 'boot'] as const;

/** One line for a boot check, the same on the CLI and the Firmware page. */
export function bootCheckLine(boot: BootCheck): string {
  if (!boot.reported) return `Boot check: ${boot.message}`;
  const seconds = (boot.ms / 1000).toFixed(1);
  return `Boot check: the board reports device ${boot.deviceId}, build ${boot.buildHash} (${seconds} s).`;
}

export interface FirmwareProgress {
  operationId: string;
  phase: 'compile' | 'connect' | 'write' | 'verify' | 'reset' | 'done' | 'stamp' | 'boot';
  bytesDone?: number;
  bytesTotal?: number;
  message?: string;
  /** A change of course worth showing until the end (an ESP's flasher stub did not start), sent once. */
  notice?: string;
  /** The compile phase of a release, once the build is there: whether it came from the cache, and its hash. */
  build?: { cached: boolean; buildHash: string };
}

export const CancelArgs = z.object({ operationId: OperationId }).strict();

export interface SerialPortView {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
  board?: { adapter: string; label: string; kind: 'usb-serial' | 'native-usb' };
  canOpen?: boolean;
}

export interface SerialPortWatch {
  ports: SerialPortView[];
  /** Call serial.watch again before this many milliseconds pass to keep the events coming. */
  leaseMs: number;
}

/** The flash board a profile's FQBN means (undefined: not one Makerdeck flashes). */
export function flashBoardFor(fqbn: string): FlashBoard | undefined {
  if (fqbn.startsWith('arduino:avr:uno')) return 'uno';
  if (fqbn.startsWith('arduino:avr:nano')) return fqbn.includes('atmega328old') ? 'nano-old' : 'nano';
  if (fqbn.startsWith('esp32:esp32:')) return 'esp32';
  if (fqbn.startsWith('esp8266:esp8266:')) return 'esp8266';
  return undefined;
}
