import type { BoardsProgress } from '../../../../electron/contract/boards';

/** A download bar for the archive being fetched, or the current step while arduino-cli installs. */
export function CoreInstallProgress({ progress }: { progress?: BoardsProgress }) {
  const label = progress ? `${progress.item ?? ''} ${progress.message ?? progress.phase}`.trim() : 'Starting';
  if (progress?.phase !== 'download' || !progress.bytesTotal)
    return (
      <div className="progress-row">
        <progress aria-label={label} />
        <span className="muted">{label}</span>
      </div>
    );
  const done = progress.bytesDone ?? 0;
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  return (
    <div className="progress-row">
      <progress aria-label={`Downloading ${progress.item ?? ''}`} max={progress.bytesTotal} value={done} />
      <span className="muted">
        {progress.item}: {mib(done)} of {mib(progress.bytesTotal)} MiB
      </span>
    </div>
  );
}
