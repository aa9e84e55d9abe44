// The phases of one release as the Firmware page lists them: each pending, active, done or failed,
// followed from the host's firmware.progress events.
import type { BootCheck, FirmwareProgress } from '../../../../electron/contract/firmware';
import { RELEASE_PHASES } from '../../../../electron/contract/firmware';

export type ReleasePhase = (typeof RELEASE_PHASES)[number];
export type PhaseState = 'pending' | 'active' | 'done' | 'failed';

export interface PhaseView {
  phase: ReleasePhase;
  state: PhaseState;
  message?: string;
  bytesDone?: number;
  bytesTotal?: number;
}

export interface ReleaseTrack {
  phases: PhaseView[];
  /** Known once the build is there. */
  build?: { cached: boolean; buildHash: string };
  /** Known once the release is over. */
  boot?: BootCheck;
}

/** Every phase pending. */
export function startTrack(): ReleaseTrack {
  return { phases: RELEASE_PHASES.map((phase) => ({ phase, state: 'pending' })) };
}

/** One progress event: the phases before its own are done, its own is active. Others ('reset') change nothing. */
export function trackProgress(track: ReleaseTrack, progress: FirmwareProgress): ReleaseTrack {
  if (progress.phase === 'done') return { ...track, phases: track.phases.map((p) => ({ ...p, state: 'done' })) };
  const at = RELEASE_PHASES.indexOf(progress.phase as ReleasePhase);
  if (at < 0) return track;
  const phases = track.phases.map((p, i): PhaseView => {
    if (i < at) return { ...p, state: 'done', bytesDone: p.bytesTotal ?? p.bytesDone };
    if (i > at) return p;
    const { message, bytesDone, bytesTotal } = progress;
    return { ...p, state: 'active', message: message ?? p.message, bytesDone, bytesTotal };
  });
  return { ...track, phases, build: progress.build ?? track.build };
}

/** The release ended: all done (with the boot check's result), or the active phase failed. */
export function finishTrack(track: ReleaseTrack, outcome: { boot?: BootCheck } | 'failed'): ReleaseTrack {
  if (outcome === 'failed')
    return { ...track, phases: track.phases.map((p) => (p.state === 'active' ? { ...p, state: 'failed' } : p)) };
  return { ...track, boot: outcome.boot, phases: track.phases.map((p) => ({ ...p, state: 'done' })) };
}
