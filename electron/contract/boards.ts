// Board cores (arduino-cli platforms): list, install online or from a folder, remove, update the index.
import { z } from 'zod';
import { OperationId } from './firmware';

/** A core id as arduino-cli names it, `packager:architecture`, optionally `@version`. */
export const CoreId = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$/, 'A core id is packager:architecture, e.g. esp32:esp32 or arduino:avr');

export const CoreVersion = z
  .string()
  .max(64)
  .regex(/^[0-9A-Za-z][0-9A-Za-z.+-]*$/, 'A core version looks like 1.8.6 or 3.0.7');

export const BoardsListArgs = z
  .object({ all: z.boolean().optional().describe('also the cores the indexes offer that are not installed') })
  .strict()
  .default({});

export const BoardsInstallArgs = z
  .object({ operationId: OperationId.optional(), core: CoreId, version: CoreVersion.optional() })
  .strict();

export const BoardsInstallFromArgs = z
  .object({
    operationId: OperationId.optional(),
    /** A folder holding package_*_index.json and the archives it names, or a .tar.gz/.tgz/.tar of one. */
    path: z.string().min(1, 'Name the folder or archive to install from').max(4096),
    /** Which core of the folder's index to install; default: every core it offers. */
    core: CoreId.optional(),
  })
  .strict();

export const BoardsRemoveArgs = z.object({ core: CoreId }).strict();

export const BoardsAddIndexArgs = z
  .object({
    url: z
      .string()
      .max(2048)
      .regex(/^(https?|file):\/\/\S+$/, 'A board index URL starts with https://, http:// or file://'),
  })
  .strict();

export interface BoardCoreView {
  /** packager:architecture */
  id: string;
  name: string;
  /** The installed version; absent when only the index offers it. */
  installed?: string;
  /** The newest version the indexes offer. */
  latest?: string;
  maintainer?: string;
  /** Board names of the installed (or else the latest) version. */
  boards: string[];
}

export interface BoardsInstallSummary {
  /** Cores installed, as core@version. */
  installed: string[];
  ms: number;
  /** Bytes downloaded (0 when every archive was already there, as for an offline folder). */
  downloadedBytes: number;
}

export interface BoardsIndexSummary {
  updated: string[];
  failed: Array<{ index: string; error: string }>;
}

export interface BoardsProgress {
  operationId: string;
  phase: 'prepare' | 'download' | 'install' | 'done';
  /** What the step is about: core or tool as packager:name@version, or an index file. */
  item?: string;
  bytesDone?: number;
  bytesTotal?: number;
  message?: string;
}

/** The command that installs a core (a compile for a missing platform names it). */
export function coreInstallCommand(core: string): string {
  return `makerdeck boards install ${core}`;
}
