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

/** One event: the phases before its own are done, its own is active; a phase the flow lacks changes nothing. */
export function trackPackProgress(track: PackTrack, progress: PackProgress): PackTrack {
  if (progress.phase === 'done') return finishPackTrack(track, 'done');
  const at = track.phases.findIndex((p) => p.phase === progress.phase);
  if (at < 0) return track;
  const phases = track.phases.map((p, i): PackPhaseView => {
    if (i < at) return p.state === 'done' ? p : { ...p, state: 'done', bytesDone: p.bytesTotal ?? p.bytesDone };
    if (i > at) return p;
    const { part, message, bytesDone, bytesTotal } = progress;
    return { ...p, state: 'active', part: part ?? p.part, message: message ?? p.message, bytesDone, bytesTotal };
  });
  return { phases };
}

/** The operation ended: every phase done, or the active one (else the first pending one) failed. */
export function finishPackTrack(track: PackTrack, outcome: 'done' | 'failed'): PackTrack {
  if (outcome === 'done') return { phases: track.phases.map((p) => ({ ...p, state: 'done' })) };
  const active = track.phases.findIndex((p) => p.state === 'active');
  const failed = active >= 0 ? active : track.phases.findIndex((p) => p.state === 'pending');
  return { phases: track.phases.map((p, i) => (i === failed ? { ...p, state: 'failed' } : p)) };
}
