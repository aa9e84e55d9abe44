import { useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';

const KEEP = 2000;

/** A service's log, followed live until closed (or until the service stops). */
export function ServiceLogs({ service, onClose }: { service: string; onClose(): void }) {
  const [lines, setLines] = useState<string[]>([]);
  const [state, setState] = useState<'following' | 'ended'>('following');
  const [error, setError] = useState<string>();
  const view = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const operationId = crypto.randomUUID();
    const off = api().on('stack.log', (batch) => {
      if (batch.operationId === operationId) setLines((current) => [...current, ...batch.lines].slice(-KEEP));
    });
    api()
      .call('stack.followLogs', { service, tail: 200, operationId })
      .then(
        () => setState('ended'),
        (e: Error) => setError(e.message),
      );
    return () => {
      off();
      void api().call('operations.cancel', { operationId });
    };
  }, [service]);

  // Braces: newer Chromium returns a promise from scrollTo, and an effect must return only a cleanup.
  useEffect(() => {
    view.current?.scrollTo(0, view.current.scrollHeight);
  }, [lines]);

  return (
    <section className="service-logs" aria-label={`${service} log`}>
      <header className="page-header">
        <h2>
          {service} log {state === 'following' ? '(live)' : '(the service stopped)'}
        </h2>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </header>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <pre ref={view} className="line-list log-view" data-testid="service-log">
        {lines.join('\n')}
      </pre>
    </section>
  );
}
