// The phases of one pack operation as the Pack page lists them (create: plan, write; import: verify,
// space, extract, install), each pending, active, done or failed, followed from pack.progress events.
import type { PackProgress } from '../../../../electron/contract/pack';

export type PackPhase = Exclude<PackProgress['phase'], 'done'>;
export type PackPhaseState = 'pending' | 'active' | 'done' | 'failed';

export const CREATE_PHASES: PackPhase[] = ['plan', 'write'];
export const IMPORT_PHASES: PackPhase[] = ['verify', 'space', 'extract', 'install'];

export interface PackPhaseView {
  phase: PackPhase;
  state: PackPhaseState;
  part?: string;
  message?: string;
  bytesDone?: number;
  bytesTotal?: number;
}

export interface PackTrack {
  phases: PackPhaseView[];
}

/** Every phase of the flow pending. */
export function startPackTrack(phases: PackPhase[]): PackTrack {
  return { phases: phases.map((phase) => ({ phase, state: 'pending' })) };
}

/**
 * Whether an event says its whole phase is through: all its bytes, not one part's. The space check's
 * bytes are the space needed and free, never a count of work done, so it ends only when the next begins.
 */
const completes = (p: PackProgress) =>
  p.phase !== 'space' && !p.part && !!p.bytesTotal && (p.bytesDone ?? 0) >= p.bytesTotal;

/** One event: the phases before its own are done, its own is active (or done); a phase the flow lacks changes nothing. */
export function trackPackProgress(track: PackTrack, progress: PackProgress): PackTrack {
  if (progress.phase === 'done') return finishPackTrack(track, 'done');
  const at = track.phases.findIndex((p) => p.phase === progress.phase);
  if (at < 0) return track;
  const phases = track.phases.map((p, i): PackPhaseView => {
    if (i < at) return p.state === 'done' ? p : { ...p, state: 'done', bytesDone: p.bytesTotal ?? p.bytesDone };
    if (i > at) return p;
    const { part, message, bytesDone, bytesTotal } = progress;
    const state = completes(progress) ? 'done' : 'active';
    return { ...p, state, part: part ?? p.part, message: message ?? p.message, bytesDone, bytesTotal };
  });
  return { phases };
}

/**
 * The operation ended: every phase done, or the active one failed. With none active (it failed between
 * two phases, e.g. a wrong passphrase after the checksums matched) no phase is blamed: the error line says why.
 */
export function finishPackTrack(track: PackTrack, outcome: 'done' | 'failed'): PackTrack {
  if (outcome === 'done') return { phases: track.phases.map((p) => ({ ...p, state: 'done' })) };
  return { phases: track.phases.map((p) => (p.state === 'active' ? { ...p, state: 'failed' } : p)) };
}
