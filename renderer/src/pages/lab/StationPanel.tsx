import { useState } from 'react';
import { MAX_PARALLEL, type StationView } from '../../../../electron/contract/lab';
import { api } from '../../api/client';
import { PortCard } from './PortCard';

/**
 * Start and stop the flash station of a lab, and watch it: one card per port it works on, and the
 * things the teacher should know (notices). Errors are the host's one line.
 */
export function StationPanel({
  lab,
  station,
  statusError,
  onStation,
}: {
  lab: string;
  station?: StationView;
  statusError?: string;
  onStation(view: StationView): void;
}) {
  const [parallel, setParallel] = useState(4);
  const [timeout, setTimeoutS] = useState(60);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const running = station?.running ?? false;
  const act = (work: () => Promise<StationView>) => {
    setBusy(true);
    setError(undefined);
    work()
      .then(onStation, (e: Error) => setError(e.message))
      .finally(() => setBusy(false));
  };
  const start = () => act(() => api().call('lab.stationStart', { lab, parallel, onlineTimeoutS: timeout }));
  const stop = () => act(() => api().call('lab.stationStop', { lab }));
  return (
    <fieldset className="station" data-testid="station" data-running={running}>
      <legend>Flash station</legend>
      <p className="muted">
        Plug the class's boards in, one after another or all at once: each gets the next free seat's id, its own broker
        login, and is flashed; it counts as done when its first telemetry arrives.
      </p>
      <div className="toolbar">
        <label>
          At once
          <input
            type="number"
            min={1}
            max={MAX_PARALLEL}
            value={parallel}
            onChange={(e) => setParallel(Number(e.target.value))}
            disabled={busy || running}
          />
        </label>
        <label>
          Online within (s)
          <input
            type="number"
            min={5}
            max={600}
            value={timeout}
            onChange={(e) => setTimeoutS(Number(e.target.value))}
            disabled={busy || running}
          />
        </label>
        {running ? (
          <button type="button" className="danger" onClick={stop} disabled={busy}>
            Stop station
          </button>
        ) : (
          <button type="button" onClick={start} disabled={busy}>
            Start station
          </button>
        )}
        <span className="muted" role="status" data-testid="station-state">
          {running ? `Running, ${station?.parallel ?? parallel} at once` : 'Stopped'}
        </span>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="station-error">
          <span aria-hidden="true">✘</span> {error}
        </p>
      )}
      {statusError && (
        <p className="muted" data-testid="station-status-error">
          Station status: {statusError}
        </p>
      )}
      {station && station.notices.length > 0 && (
        <ul className="notices" aria-label="Station notices">
          {station.notices.map((notice) => (
            <li key={notice} className="warning">
              <span aria-hidden="true">ⓘ</span> {notice}
            </li>
          ))}
        </ul>
      )}
      {station && station.ports.length > 0 ? (
        <ul className="port-cards" aria-label="Ports">
          {station.ports.map((port) => (
            <PortCard key={port.port} port={port} />
          ))}
        </ul>
      ) : (
        running && <p className="hint">Waiting for boards: plug one in.</p>
      )}
    </fieldset>
  );
}
