// A classroom lab: a class's boards, each with its own device id (from an id pattern or a roster),
// released from one profile template and flashed by the station, several ports at once.
import { z } from 'zod';
import { DEVICE_ID_PATTERN, DeviceId, Fqbn } from './profiles';

/** Placeholders an id pattern may hold: the seat number, padded to 1, 2 or 3 digits. */
export const ID_PATTERN_SLOT = /\{n{1,3}\}/;
/** At most this many seats in one lab (a large class, twice over). */
export const MAX_SEATS = 200;
/** A roster file larger than this is not a class list. */
export const MAX_ROSTER_BYTES = 256 * 1024;
/** Boards flashed at once, at most. */
export const MAX_PARALLEL = 8;

const CONTROL = /[\u0000-\u001f\u007f]/;
const label = (what: string, max: number) =>
  z
    .string({ error: `${what} must be text` })
    .transform((value) => value.trim())
    .pipe(
      z
        .string()
        .min(1, `${what} must not be empty`)
        .max(max, `${what} must be at most ${max} characters`)
        .refine((value) => !CONTROL.test(value), `${what} must not contain control characters`),
    );

export const LabName = label('The lab name', 64);
/** A lab by its id or its name. */
export const LabRef = z.string().min(1, 'Name the lab').max(64, 'A lab name is at most 64 characters');

/** `lab3-{nn}` → lab3-01, lab3-02, …: the slot is the seat number; every id must be a device id. */
export const IdPattern = z
  .string()
  .regex(ID_PATTERN_SLOT, 'The id pattern needs a seat number slot: {n}, {nn} or {nnn} (e.g. lab3-{nn})')
  .refine(
    (value) => DEVICE_ID_PATTERN.test(value.replace(ID_PATTERN_SLOT, '999')),
    'The id pattern must give device ids: letters, digits, _ and - (up to 64), e.g. lab3-{nn}',
  );

export const LabCreateArgs = z
  .object({
    name: LabName,
    /** The board type every seat gets (FQBN). */
    board: Fqbn,
    /** The profile whose Wi-Fi and broker settings every board gets (its device id is replaced per seat). */
    template: z.string().min(1, 'Name the profile template').max(64),
    /** Seat ids from a pattern (a roster imported later replaces them). */
    idPattern: IdPattern.optional(),
    /** How many seats the pattern makes. */
    seats: z.number().int().min(1).max(MAX_SEATS).default(30),
  })
  .strict();

export const LabRefArgs = z.object({ lab: LabRef }).strict();

/** A roster CSV: a header naming seat, student and device id columns (in any order), a row per seat. */
export const LabImportRosterArgs = z
  .object({
    lab: LabRef,
    csv: z.string().max(MAX_ROSTER_BYTES, `A roster is at most ${MAX_ROSTER_BYTES / 1024} KB`),
  })
  .strict();

export const LabStationStartArgs = z
  .object({
    lab: LabRef,
    /** Boards flashed at once. */
    parallel: z
      .number()
      .int()
      .min(1, 'At least 1 board is flashed at a time')
      .max(MAX_PARALLEL, `At most ${MAX_PARALLEL} boards are flashed at once`)
      .default(4),
    /** How long a flashed board has to send its first telemetry before it is marked silent. */
    onlineTimeoutS: z.number().int().min(5).max(600).default(60),
  })
  .strict();

/** Flash a failed or silent seat again (its board must be plugged in). */
export const LabRetryArgs = z.object({ lab: LabRef, deviceId: DeviceId }).strict();

export const LabExportLogArgs = z.object({ lab: LabRef, format: z.enum(['csv', 'json']).default('csv') }).strict();

export const LabResetArgs = z
  .object({
    lab: LabRef,
    /** The lab's name typed again: a reset cannot be undone. */
    confirm: z.string().max(64),
    /** Also delete the lab's devices' points from InfluxDB. */
    dropData: z.boolean().default(false),
  })
  .strict();

/** Where a seat's board is: nothing yet → flashing → flashed (written, booted) → online or silent; or failed. */
export type SeatState = 'free' | 'flashing' | 'flashed' | 'online' | 'silent' | 'failed';

/** How a board was told apart: its USB serial number, or (clones without one, or sharing one) port and plug order. */
export type BoardIdentityKind = 'usb-serial' | 'port-order';

export interface BoardIdentity {
  kind: BoardIdentityKind;
  /** `usb:<vid>:<pid>:<serial>` or `port:<path>#<plug>`. */
  key: string;
  usbSerial?: string;
  /** "2341:0043". */
  vidPid?: string;
}

export interface LabSeatView {
  seat: string;
  student?: string;
  deviceId: string;
  state: SeatState;
  /** Why it failed or is silent, with what to do. */
  reason?: string;
  identity?: BoardIdentity;
  port?: string;
  buildHash?: string;
  flashedAt?: string;
  onlineAt?: string;
}

export interface LabView {
  id: string;
  name: string;
  board: string;
  /** The template profile's name. */
  template: string;
  idPattern?: string;
  /** Where the seats came from. */
  seatsFrom: 'pattern' | 'roster';
  seats: LabSeatView[];
  createdAt: string;
  /** Whether the station was running (it resumes after a restart of Makerdeck). */
  stationRunning: boolean;
}

export type LabSummary = Pick<LabView, 'id' | 'name' | 'board' | 'template' | 'stationRunning'> & {
  counts: Record<SeatState, number>;
};

/** One board's go at the station, as logged. */
export interface LabLogEntry {
  time: string;
  port: string;
  usbSerial?: string;
  identity: BoardIdentityKind;
  deviceId: string;
  student?: string;
  buildHash?: string;
  result: 'online' | 'silent' | 'failed';
  reason?: string;
  /** From detection to the result. */
  seconds: number;
}

/** A port the station is working on, as the UI shows it. */
export type StationPhase =
  'detected' | 'release' | 'write' | 'boot' | 'waiting' | 'online' | 'silent' | 'failed' | 'unplugged';

export interface StationPortView {
  port: string;
  identity?: BoardIdentity;
  deviceId?: string;
  student?: string;
  phase: StationPhase;
  bytesDone?: number;
  bytesTotal?: number;
  /** What is happening now (e.g. "waiting for the broker: connection refused"). */
  message?: string;
  /** Why it failed, with the fix. */
  reason?: string;
  startedAt: string;
}

export interface StationView {
  lab: string;
  running: boolean;
  parallel: number;
  ports: StationPortView[];
  /** Things the teacher should know (e.g. "2 boards share USB serial 0001: told apart by port and plug order"). */
  notices: string[];
}

export interface LabResetSummary {
  lab: string;
  /** Device broker users deleted from the broker. */
  brokerUsers: string[];
  /** Keychain entries deleted. */
  keychainEntries: number;
  /** Whether the lab's points were deleted from InfluxDB, or why not. */
  data: 'dropped' | 'kept' | string;
  /** Built images stay in the build cache: the next class flashes without compiling. */
  buildsKept: true;
  /** Seats that had a board, a state or a login and are free again. */
  seatsFreed: number;
  /** Station log entries kept (a reset never deletes the log: export it, or delete the lab). */
  logKept: number;
}

export interface LabLogExport {
  lab: string;
  format: 'csv' | 'json';
  content: string;
  entries: number;
}
