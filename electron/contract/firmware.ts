// Compiling, flashing and the serial ports they use.
import { z } from 'zod';

export const FLASH_BOARDS = ['uno', 'nano', 'nano-old', 'esp32', 'esp8266'] as const;
export const FlashBoard = z.enum(FLASH_BOARDS, { error: `The board must be one of ${FLASH_BOARDS.join(', ')}` });
export type FlashBoard = z.infer<typeof FlashBoard>;

/** A client-chosen id that progress events carry and operations.cancel names. */
export const OperationId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'An operation id is 1 to 64 letters, digits, - or _');

export const CompileArgs = z
  .object({ operationId: OperationId.optional(), profile: z.string().min(1, 'Name the profile to build'), board: z.string().min(3).max(200).optional() })
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
}

const MAX_IMAGE_BASE64 = 22_000_000; // 16 MiB of firmware

export const FlashSource = z.union([
  z.object({ profile: z.string().min(1) }).strict(),
  z.object({ fileName: z.string().min(1).max(255), contentBase64: z.string().max(MAX_IMAGE_BASE64, 'The firmware file is larger than 16 MiB') }).strict(),
]);

export const FlashArgs = z
  .object({ operationId: OperationId.optional(), port: z.string().min(1, 'Pick the serial port of the board').max(255), board: FlashBoard, source: FlashSource })
  .strict();

export interface FlashSummary {
  board: FlashBoard;
  port: string;
  bytes: number;
  ms: number;
  verified: boolean;
}

export interface FirmwareProgress {
  operationId: string;
  phase: 'compile' | 'connect' | 'write' | 'verify' | 'reset' | 'done';
  bytesDone?: number;
  bytesTotal?: number;
  message?: string;
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
