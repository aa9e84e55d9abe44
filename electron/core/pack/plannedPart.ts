// What the planner hands the writer: each part with its members, each member able to produce its
// bytes when the pack is written (a file as it is, a stream, or a small text).
import type { PackPartKind } from '../../contract';
import type { MemberSource } from './packArchive';
import type { PackCli } from './packCli';

/** What a member's source may use while the pack is written. */
export interface WriteContext {
  signal: AbortSignal;
  cli: PackCli;
  /** A path in the writer's staging folder (removed with it), for a member made in steps. */
  scratch(name: string): string;
}

export interface PlannedMember {
  path: string;
  /** Its size in the pack, or (when `estimated`) an upper bound: compressed members are smaller. */
  bytes: number;
  estimated?: boolean;
  source(context: WriteContext): Promise<MemberSource | { path: string; text: string }>;
}

export interface PlannedPart {
  id: string;
  kind: PackPartKind;
  title: string;
  version?: string;
  installedBytes?: number;
  members: PlannedMember[];
}
