import type { PackPhase, PackPhaseView, PackTrack } from './packTrack';
import { formatBytes } from './formatBytes';

const LABELS: Record<PackPhase, string> = {
  plan: 'Plan',
  write: 'Write',
  verify: 'Verify checksums',
  space: 'Check space',
  extract: 'Extract',
  install: 'Install',
};

/** Phases whose last line is their result (checksums match, the space needed, files extracted). */
const SAYS_RESULT = new Set<PackPhase>(['verify', 'space', 'extract']);

/** An operation's phases in order; the active one with its part, its message and a bar when bytes are known. */
export function PackPhases({ track, label }: { track: PackTrack; label: string }) {
  return (
    <ol className="release-phases pack-phases" aria-label={label}>
      {track.phases.map((p) => (
        <li key={p.phase} data-phase={p.phase} data-state={p.state} className={`phase-${p.state}`}>
          <span className="phase-name">{LABELS[p.phase]}</span> <span className="muted">{p.state}</span>
          {p.state === 'active' && <PhaseDetail view={p} />}
          {p.state === 'done' && SAYS_RESULT.has(p.phase) && p.message && <span className="muted"> — {p.message}</span>}
        </li>
      ))}
    </ol>
  );
}

function PhaseDetail({ view }: { view: PackPhaseView }) {
  const what = [view.part, view.message].filter(Boolean).join(': ');
  // The space check's figures are said, not drawn: they are the space needed and the space free.
  if (!view.bytesTotal || view.phase === 'space') return <span> — {what || 'working'}</span>;
  const done = view.bytesDone ?? 0;
  return (
    <div className="progress-row">
      <progress aria-label={view.phase} max={view.bytesTotal} value={done} />
      <span className="muted">
        {what && `${what} — `}
        {formatBytes(done)} of {formatBytes(view.bytesTotal)} ({Math.floor((done / view.bytesTotal) * 100)}%)
      </span>
    </div>
  );
}
