// A lab as it is kept on disk: one JSON file per lab in the data folder's labs/ folder, checked
// against this schema when read (a damaged or hand-edited file is one clear line, never a crash).
import { z } from 'zod';

export const LAB_FILE_VERSION = 1;

const Identity = z.object({
  kind: z.enum(['usb-serial', 'port-order']),
  key: z.string(),
  usbSerial: z.string().optional(),
  vidPid: z.string().optional(),
});

export const StoredSeat = z.object({
  seat: z.string(),
  student: z.string().optional(),
  deviceId: z.string(),
  state: z.enum(['free', 'flashing', 'flashed', 'online', 'silent', 'failed']),
  reason: z.string().optional(),
  identity: Identity.optional(),
  port: z.string().optional(),
  buildHash: z.string().optional(),
  flashedAt: z.string().optional(),
  onlineAt: z.string().optional(),
});
export type StoredSeat = z.infer<typeof StoredSeat>;

export const StoredLogEntry = z.object({
  time: z.string(),
  port: z.string(),
  usbSerial: z.string().optional(),
  identity: z.enum(['usb-serial', 'port-order']),
  deviceId: z.string(),
  student: z.string().optional(),
  buildHash: z.string().optional(),
  result: z.enum(['online', 'silent', 'failed']),
  reason: z.string().optional(),
  seconds: z.number(),
});

export const StoredLab = z.object({
  version: z.literal(LAB_FILE_VERSION),
  id: z.string(),
  name: z.string(),
  board: z.string(),
  /** The template profile's id (its name may change). */
  template: z.string(),
  idPattern: z.string().optional(),
  seatsFrom: z.enum(['pattern', 'roster']),
  createdAt: z.string(),
  station: z.object({
    running: z.boolean(),
    parallel: z.number().int(),
    onlineTimeoutS: z.number().int(),
    /** When the station was last started: of several left running, the latest resumes. */
    startedAt: z.string().optional(),
  }),
  /** Boards plugged in so far: the plug order of boards told apart by port. */
  plugs: z.number().int().nonnegative(),
  seats: z.array(StoredSeat),
  log: z.array(StoredLogEntry),
});
export type StoredLab = z.infer<typeof StoredLab>;
