import type { BootCheck } from '../../../../electron/contract/firmware';
import type { PhaseView, ReleasePhase, ReleaseTrack } from './releaseTrack';

const LABELS: Record<ReleasePhase, string> = {
  compile: 'Build',
  stamp: 'Stamp config',
  connect: 'Connect',
  write: 'Write',
  verify: 'Verify',
  boot: 'Boot check',
};

/** A release's phases in order, each pending, active (with its progress), done or failed. */
export function ReleasePhases({ track }: { track: ReleaseTrack }) {
  return (
    <ol className="release-phases" aria-label="Release phases">
      {track.phases.map((p) => (
        <li key={p.phase} data-phase={p.phase} data-state={p.state} className={`phase-${p.state}`}>
          <span className="phase-name">{LABELS[p.phase]}</span> <span className="muted">{p.state}</span>
          <PhaseDetail view={p} track={track} />
        </li>
      ))}
    </ol>
  );
}

function PhaseDetail({ view, track }: { view: PhaseView; track: ReleaseTrack }) {
  if (view.phase === 'compile' && track.build)
    return (
      <span>
        {' '}
        — build {track.build.buildHash}, {track.build.cached ? 'cached' : 'fresh'}
      </span>
    );
  if (view.phase === 'boot' && track.boot)
    return <span className={track.boot.reported ? undefined : 'boot-silent'}> — {bootText(track.boot)}</span>;
  if (view.state !== 'active') return null;
  if (!view.bytesTotal) return <span> — {view.message ?? 'working'}</span>;
  const done = view.bytesDone ?? 0;
  return (
    <span>
      {' '}
      <progress aria-label={view.phase} max={view.bytesTotal} value={done} /> {(done / 1024).toFixed(1)} of{' '}
      {(view.bytesTotal / 1024).toFixed(1)} KiB
    </span>
  );
}

function bootText(boot: BootCheck): string {
  return boot.reported
    ? `the board reports ${boot.deviceId} (build ${boot.buildHash})`
    : `did not report within ${Math.round(boot.waitedMs / 1000)} s`;
}
