import { useEffect, useState } from 'react';
import { api } from './api/client';
import { PageErrorBoundary } from './PageErrorBoundary';
import { PAGES, usePage } from './router';

export function App() {
  const [page, go] = usePage();
  const connected = useConnection();
  const Current = PAGES.find((entry) => entry.id === page)?.component ?? PAGES[0]!.component;
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Pages">
        <div className="brand">Makerdeck</div>
        {PAGES.map((entry) => (
          <a
            key={entry.id}
            href={`#/${entry.id}`}
            className={entry.id === page ? 'active' : undefined}
            onClick={() => go(entry.id)}
          >
            <span aria-hidden="true">{entry.icon}</span> {entry.title}
          </a>
        ))}
        <footer className="sidebar-footer" data-testid="host-mode">
          {api().mode}
        </footer>
      </nav>
      <main className="content">
        {!connected && (
          <div className="banner" role="status">
            Not connected to Makerdeck — reconnecting…
          </div>
        )}
        <PageErrorBoundary page={page}>
          <Current />
        </PageErrorBoundary>
      </main>
    </div>
  );
}

function useConnection(): boolean {
  const [connected, setConnected] = useState(true);
  useEffect(() => api().onConnection(setConnected), []);
  return connected;
}
