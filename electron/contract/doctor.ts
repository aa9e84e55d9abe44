// Types of the setup doctor's report, shared by every host and the renderer.
import { z } from 'zod';

export const CHECK_IDS = ['docker', 'keychain', 'arduino-cli', 'serial-ports', 'disk'] as const;
export const CheckId = z.enum(CHECK_IDS);
export type CheckId = z.infer<typeof CheckId>;

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** A sub-finding of a check, e.g. one serial port. */
export interface DoctorItem {
  label: string;
  detail: string;
  status: CheckStatus;
}

/** A fix the user can carry out in one step: copy a command to run, or save a file. */
export type DoctorAction =
  { kind: 'copy'; label: string; text: string } | { kind: 'save'; label: string; fileName: string; content: string };

export interface DoctorCheck {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  /** One line: what to do about it (absent when status is ok). */
  fix?: string;
  items?: DoctorItem[];
  /** Steps that carry out the fix (absent when there is nothing to do). */
  actions?: DoctorAction[];
  /** Short notes for this operating system (e.g. serial drivers). */
  notes?: string[];
  durationMs: number;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  /** The worst status of all checks. */
  status: CheckStatus;
  startedAt: string;
  durationMs: number;
}

export const DoctorRunArgs = z
  .object({ only: z.array(CheckId).min(1).optional() })
  .strict()
  .default({});
