import { useCallback, useEffect, useState } from 'react';
import type { CheckStatus, DoctorCheck, DoctorReport } from '../../../electron/contract/doctor';
import { api } from '../api/client';
import { CheckFixes } from './doctor/CheckFixes';

const ICON: Record<CheckStatus, string> = { ok: '✔', warn: '!', fail: '✘' };

export function DoctorPage() {
  const [checks, setChecks] = useState<DoctorCheck[]>([]);
  const [report, setReport] = useState<DoctorReport>();
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string>();

  const run = useCallback(async () => {
    setRunning(true);
    setError(undefined);
    setReport(undefined);
    setChecks([]);
    try {
      const result = await api().call('doctor.run', {});
      setReport(result);
      setChecks(result.checks);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setRunning(false);
    }
  }, []);

  // Checks arrive one by one while the doctor runs, so slow probes don't hide fast answers.
  useEffect(
    () => api().on('doctor.check', (check) => setChecks((shown) => [...shown.filter((c) => c.id !== check.id), check])),
    [],
  );
  useEffect(() => void run(), [run]);

  return (
    <section>
      <header className="page-header">
        <h1>Doctor</h1>
        <button type="button" onClick={() => void run()} disabled={running}>
          {running ? 'Checking…' : 'Run checks again'}
        </button>
      </header>
      <p className="lead">What this computer is ready for, and how to fix what is not.</p>
      {running && <progress aria-label="Checks running" />}
      {error && <p className="error">{error}</p>}
      {report && (
        <p className={`summary status-${report.status}`} data-testid="doctor-summary">
          {report.checks.length} checks in {report.durationMs} ms —{' '}
          {report.status === 'ok'
            ? 'all good'
            : report.status === 'warn'
              ? 'usable, with warnings'
              : 'something needs fixing'}
        </p>
      )}
      <ul className="checks">
        {checks.map((check) => (
          <CheckCard key={check.id} check={check} />
        ))}
      </ul>
    </section>
  );
}

function CheckCard({ check }: { check: DoctorCheck }) {
  return (
    <li className={`check status-${check.status}`} data-check={check.id} data-status={check.status}>
      <span className="badge" aria-label={check.status}>
        {ICON[check.status]}
      </span>
      <div>
        <h2>{check.title}</h2>
        <p>{check.summary}</p>
        {check.items && check.items.length > 0 && (
          <ul className="items">
            {check.items.map((item) => (
              <li key={item.label} className={`status-${item.status}`}>
                <code>{item.label}</code> {item.detail}
              </li>
            ))}
          </ul>
        )}
        {check.fix && <p className="fix">Fix: {check.fix}</p>}
        <CheckFixes check={check} />
      </div>
    </li>
  );
}
