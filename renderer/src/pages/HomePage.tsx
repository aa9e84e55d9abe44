import { useEffect, useState } from 'react';
import type { AppInfo } from '../../../electron/contract/api';
import { api } from '../api/client';

export function HomePage() {
  const [info, setInfo] = useState<AppInfo>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api()
      .call('app.info', {})
      .then(setInfo, (e: Error) => setError(e.message));
  }, []);
  return (
    <section>
      <h1>Welcome to Makerdeck</h1>
      <p className="lead">
        From a board on your desk to live charts: secrets in your keychain, firmware flashed over USB, the backing
        services in Docker.
      </p>
      <ol className="steps">
        <li>
          <a href="#/doctor">Run the doctor</a> to see what this computer is ready for.
        </li>
        <li>
          <a href="#/profiles">Create a device profile</a>: Wi-Fi and MQTT passwords stay in the OS keychain.
        </li>
        <li>Flash the firmware, start the stack and watch the telemetry.</li>
      </ol>
      {info && (
        <p className="muted" data-testid="app-info">
          {info.name} {info.version} · {api().mode} · {info.platform} ({info.arch})
        </p>
      )}
      {info && (
        <p className="muted" data-testid="log-file">
          Log file (for bug reports): {info.logFile}
        </p>
      )}
      {error && <p className="error">{error}</p>}
    </section>
  );
}
