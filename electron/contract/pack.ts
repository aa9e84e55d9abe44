// Lab packs: one archive carrying what a classroom or a field site without internet needs —
// arduino-cli, board cores with their tools, libraries, firmware builds, the stack's images and
// passphrase-encrypted profiles — with a manifest of every file's size and SHA-256.
import { z } from 'zod';
import { CoreId } from './boards';
import { OperationId } from './firmware';
import { Passphrase, ProfileRef } from './profiles';
import { StackProfile } from './stack';

/** A file path for a pack: where to write one, or the one to read. */
export const PackFile = z.string().min(1, 'Name the pack file').max(4096);

/** An arduino-cli binary's target, as Node names it: `<platform>-<arch>` (linux-x64, win32-x64, …). */
export const CliTarget = z.enum(['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64']);
export type CliTarget = z.infer<typeof CliTarget>;

/** What goes into a pack; every list defaults to nothing but this machine's arduino-cli. */
export const PackContentsArgs = z
  .object({
    /** Installed board cores to carry, with their tools for this machine's OS. */
    cores: z.array(CoreId).max(50).default([]),
    /** Installed Arduino libraries to carry, by name. */
    libraries: z.array(z.string().min(1).max(200)).max(200).default([]),
    /** Cached firmware builds to carry: their build hashes (16 hex digits), or "all". */
    builds: z
      .union([z.literal('all'), z.array(z.string().regex(/^[0-9a-f]{16}$/, 'A build hash is 16 hex digits'))])
      .default([]),
    /** The stack profile whose Docker images to carry (as `docker save` writes them); none when absent. */
    stack: StackProfile.optional(),
    /** Profiles to carry, each encrypted with `passphrase` as the profile export does. */
    profiles: z.array(ProfileRef).max(500).default([]),
    passphrase: Passphrase.optional(),
    /** arduino-cli binaries to carry; default: the one for this machine. */
    cliTargets: z.array(CliTarget).max(5).optional(),
  })
  .strict();

export const PackCreateArgs = PackContentsArgs.extend({
  operationId: OperationId.optional(),
  /** The archive to write (`.mdpack`); refused when it exists, unless `overwrite`. */
  file: PackFile,
  overwrite: z.boolean().optional(),
  /** A name for people (the class or site). */
  name: z.string().min(1).max(100).optional(),
}).strict();

export const PackInspectArgs = z.object({ file: PackFile }).strict();

export const PackImportArgs = z
  .object({
    operationId: OperationId.optional(),
    file: PackFile,
    /** Needed when the pack carries profiles. */
    passphrase: Passphrase.optional(),
  })
  .strict();

export type PackPartKind = 'arduino-cli' | 'core' | 'library' | 'build' | 'images' | 'profiles';

/** One file inside the pack, as the manifest lists it. */
export interface PackFileEntry {
  /** Path inside the archive (forward slashes, no `..`). */
  path: string;
  bytes: number;
  sha256: string;
}

/** One part of a pack: what it is, its version and its files. */
export interface PackPart {
  /** Unique within the pack, e.g. `core/makerdeckavr:avr`, `arduino-cli/linux-x64`, `images/core`. */
  id: string;
  kind: PackPartKind;
  /** What people read, e.g. "Arduino AVR Boards" or "arduino-cli". */
  title: string;
  version?: string;
  /** Bytes in the archive (the sum of its files). */
  bytes: number;
  /** Bytes once installed (unpacked), where known: the space an import needs for it. */
  installedBytes?: number;
  files: PackFileEntry[];
}

/** `manifest.json`, the archive's first member. */
export interface PackManifest {
  format: 'makerdeck-pack';
  formatVersion: 1;
  /** Random; names the import's resume state. */
  id: string;
  name?: string;
  createdAt: string;
  createdBy: { makerdeck: string; platform: string; arch: string };
  parts: PackPart[];
}

/** What a pack will hold, part by part, before anything is written. */
export interface PackPlan {
  parts: Array<Omit<PackPart, 'files'> & { files: number }>;
  bytes: number;
  /** What was asked for but cannot be carried, each one line with the fix. */
  problems: string[];
}

export interface PackCreateSummary {
  file: string;
  bytes: number;
  sha256: string;
  parts: PackPlan['parts'];
  ms: number;
}

export interface PackImportStep {
  part: string;
  title: string;
  /** `done` now, `already` by an earlier (interrupted) import of the same pack. */
  result: 'done' | 'already';
  detail?: string;
}

export interface PackImportSummary {
  packId: string;
  /** Bytes the import needed free, said before it changed anything. */
  spaceNeeded: number;
  steps: PackImportStep[];
  /** The arduino-cli configuration Makerdeck now uses (its data folder is the pack's). */
  arduinoCliConfig?: string;
  ms: number;
}

export interface PackProgress {
  operationId: string;
  phase: 'plan' | 'write' | 'verify' | 'space' | 'extract' | 'install' | 'done';
  /** The part the step is about (its id). */
  part?: string;
  bytesDone?: number;
  bytesTotal?: number;
  message?: string;
}
