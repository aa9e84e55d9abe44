import { useState } from 'react';
import type { LabResetSummary } from '../../../../electron/contract/lab';
import { api } from '../../api/client';

/** Reset between classes: the lab's name typed again, optionally its data too; then what was removed. */
export function ResetLab({ lab, onDone }: { lab: { id: string; name: string }; onDone(): void }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [dropData, setDropData] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [summary, setSummary] = useState<LabResetSummary>();
  const reset = () => {
    setBusy(true);
    setError(undefined);
    api()
      .call('lab.reset', { lab: lab.id, confirm: typed, dropData })
      .then(
        (result) => {
          setSummary(result);
          setOpen(false);
          setTyped('');
          onDone();
        },
        (e: Error) => setError(e.message),
      )
      .finally(() => setBusy(false));
  };
  return (
    <section className="reset-lab" aria-label="Reset lab">
      {!open && (
        <button type="button" className="danger" onClick={() => setOpen(true)}>
          Reset lab…
        </button>
      )}
      {open && (
        <div className="panel" role="group" aria-label="Confirm reset">
          <p>
            Resetting <strong>{lab.name}</strong> deletes its devices' broker users and their keychain entries, so the
            next class starts clean. Built images stay. This cannot be undone.
          </p>
          <label>
            Type the lab's name to confirm
            <input value={typed} onChange={(e) => setTyped(e.target.value)} placeholder={lab.name} disabled={busy} />
          </label>
          <label className="inline">
            <input type="checkbox" checked={dropData} onChange={(e) => setDropData(e.target.checked)} disabled={busy} />{' '}
            Also delete its data from InfluxDB
          </label>
          <div className="button-row">
            <button type="button" className="danger" onClick={reset} disabled={busy || typed.trim() !== lab.name}>
              Reset {lab.name}
            </button>
            <button type="button" className="secondary" onClick={() => setOpen(false)} disabled={busy}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {error && (
        <p className="error" role="alert" data-testid="reset-error">
          {error}
        </p>
      )}
      {summary && <ResetSummary summary={summary} />}
    </section>
  );
}

function ResetSummary({ summary }: { summary: LabResetSummary }) {
  const data =
    summary.data === 'dropped'
      ? 'its data was deleted from InfluxDB'
      : summary.data === 'kept'
        ? 'its data in InfluxDB was kept'
        : `its data could not be deleted: ${summary.data}`;
  return (
    <div className="notice" role="status" data-testid="reset-summary">
      <p>
        Reset {summary.lab}: {summary.brokerUsers.length} broker users deleted
        {summary.brokerUsers.length > 0 ? ` (${summary.brokerUsers.join(', ')})` : ''}, {summary.keychainEntries}{' '}
        keychain entries deleted, {summary.seatsFreed} seats free again; {data}. Kept: the built images and the{' '}
        {summary.logKept} log entries.
      </p>
    </div>
  );
}
