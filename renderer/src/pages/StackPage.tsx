import { useCallback, useEffect, useState } from 'react';
import type { StackProgressEvent, StackServiceView } from '../../../electron/contract/stack';
import { api } from '../api/client';
import { LanBroker } from './stack/LanBroker';
import { ServiceLogs } from './stack/ServiceLogs';
import { serviceState } from './stack/serviceState';
import { PageMessage, showOutcome, type PageMessageState } from './PageMessage';

type Profile = 'core' | 'full';

const STATE_ICON: Record<string, string> = {
  healthy: '✔',
  running: '●',
  starting: '…',
  unhealthy: '✘',
  missing: '○',
  'not-started': '○',
  exited: '■',
};

/** The local backing stack: start, stop, reset; each service's health, ports and console. */
export function StackPage() {
  const [profile, setProfile] = useState<Profile>('core');
  const [services, setServices] = useState<StackServiceView[]>([]);
  const [busy, setBusy] = useState<string>();
  const [progress, setProgress] = useState<StackProgressEvent>();
  const [message, setMessage] = useState<PageMessageState>();
  const [logsOf, setLogsOf] = useState<string>();

  const refresh = useCallback(async () => {
    try {
      setServices(await api().call('stack.status', { profile: 'full' }));
    } catch (e) {
      setMessage({ kind: 'error', text: (e as Error).message });
    }
  }, []);

  useEffect(() => void refresh(), [refresh]);
  // States change on their own (health, Telegraf dropping points): look again every 10 s.
  useEffect(() => {
    const timer = setInterval(() => void refresh(), 10_000);
    return () => clearInterval(timer);
  }, [refresh]);
  useEffect(() => api().on('stack.progress', setProgress), []);

  const act = async (label: string, work: () => Promise<string>) => {
    setBusy(label);
    try {
      await showOutcome(setMessage, work);
    } finally {
      setBusy(undefined);
      setProgress(undefined);
      void refresh();
    }
  };

  const showError = useCallback((text: string) => setMessage({ kind: 'error', text }), []);
  const lanChanged = useCallback(
    (text: string) => {
      setMessage({ kind: 'notice', text });
      void refresh();
    },
    [refresh],
  );

  const up = () =>
    act('Starting', async () => (await api().call('stack.up', { profile }), `The ${profile} stack is up and healthy.`));
  const down = () =>
    act('Stopping', async () => (await api().call('stack.down', {}), 'The stack is down; its data is kept.'));
  const reset = () => {
    if (!window.confirm('Delete the stack and ALL its data (InfluxDB, Grafana, broker)?')) return;
    void act(
      'Resetting',
      async () => (await api().call('stack.reset', { confirm: true }), 'The stack and its data are gone.'),
    );
  };

  return (
    <section>
      <header className="page-header">
        <h1>Stack</h1>
      </header>
      <p className="lead">
        The services your devices report to, on this computer's Docker. Passwords are generated per install and kept in
        your keychain.
      </p>
      <div className="toolbar">
        <label>
          Profile
          <select value={profile} onChange={(e) => setProfile(e.target.value as Profile)} disabled={!!busy}>
            <option value="core">core — broker, InfluxDB, Telegraf</option>
            <option value="full">full — all seven services</option>
          </select>
        </label>
        <button type="button" onClick={() => void up()} disabled={!!busy}>
          Start
        </button>
        <button type="button" className="secondary" onClick={() => void down()} disabled={!!busy}>
          Stop
        </button>
        <button type="button" className="danger" onClick={reset} disabled={!!busy}>
          Reset…
        </button>
        <button type="button" className="secondary" onClick={() => void refresh()} disabled={!!busy}>
          Refresh
        </button>
      </div>
      <LanBroker disabled={!!busy} onChanged={lanChanged} onError={showError} />
      {busy && (
        <div className="progress-row">
          {progress?.bytesTotal ? (
            <progress max={progress.bytesTotal} value={progress.bytesDone ?? 0} aria-label={busy} />
          ) : (
            <progress aria-label={busy} />
          )}
          <span className="muted">
            {busy}
            {progress
              ? ` — ${progress.service}: ${progress.phase}${progress.message ? ` (${progress.message})` : ''}`
              : '…'}
          </span>
        </div>
      )}
      <PageMessage message={message} />
      <table className="services" aria-label="Services">
        <thead>
          <tr>
            <th>Service</th>
            <th>State</th>
            <th>Ports</th>
            <th>Up since</th>
            <th>Open</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {services.map((s) => {
            const shown = serviceState(s, profile);
            return (
              <tr key={s.name} data-service={s.name} data-state={s.state}>
                <td>{s.name}</td>
                {s.problem ? (
                  <td className="state-unhealthy" data-testid={`problem-${s.name}`}>
                    <span aria-hidden="true">⚠</span> {s.problem}
                  </td>
                ) : (
                  <td className={`state-${shown.key}`}>
                    <span aria-hidden="true">{STATE_ICON[shown.key] ?? '•'}</span> {shown.label}
                  </td>
                )}
                <td>{s.ports.map((p) => `${p.hostIp}:${p.hostPort}`).join(', ')}</td>
                <td>{s.startedAt ? new Date(s.startedAt).toLocaleTimeString() : ''}</td>
                <td>
                  {s.links.map((link) => (
                    <a key={link.url} href={link.url} target="_blank" rel="noreferrer">
                      {link.label}
                    </a>
                  ))}
                </td>
                <td>
                  {s.state !== 'missing' && (
                    <button type="button" className="secondary" onClick={() => setLogsOf(s.name)}>
                      Logs
                    </button>
                  )}
                  {s.state !== 'missing' && (
                    <button
                      type="button"
                      className="secondary"
                      disabled={!!busy}
                      onClick={() =>
                        void act(
                          `Restarting ${s.name}`,
                          async () => (await api().call('stack.restart', { service: s.name }), `${s.name} restarted.`),
                        )
                      }
                    >
                      Restart
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {logsOf && <ServiceLogs key={logsOf} service={logsOf} onClose={() => setLogsOf(undefined)} />}
    </section>
  );
}
