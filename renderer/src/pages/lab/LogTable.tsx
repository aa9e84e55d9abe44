import { useEffect, useState } from 'react';
import type { LabLogEntry, LabView } from '../../../../electron/contract/lab';
import { api } from '../../api/client';
import { portName } from './PortCard';
import { SeatBadge } from './SeatBadge';

/** The station log, newest first: every board's go with its result and why. Read again when the lab changes. */
export function LogTable({ lab }: { lab: LabView }) {
  const [entries, setEntries] = useState<LabLogEntry[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    api()
      .call('lab.log', { lab: lab.id })
      .then(
        (log) => live && (setEntries(log), setError(undefined)),
        (e: Error) => live && setError(e.message),
      );
    return () => {
      live = false;
    };
  }, [lab]);
  return (
    <details className="lab-log">
      <summary>Station log ({entries.length})</summary>
      {error && <p className="error">{error}</p>}
      <table className="services" aria-label="Station log">
        <thead>
          <tr>
            <th>Time</th>
            <th>Port</th>
            <th>USB serial</th>
            <th>Device id</th>
            <th>Student</th>
            <th>Result</th>
            <th>Seconds</th>
          </tr>
        </thead>
        <tbody>
          {[...entries].reverse().map((entry, i) => (
            <tr key={`${entry.time}-${i}`} data-device={entry.deviceId}>
              <td>{new Date(entry.time).toLocaleTimeString()}</td>
              <td title={entry.port}>{portName(entry.port)}</td>
              <td>{entry.usbSerial ?? (entry.identity === 'port-order' ? 'none: port and plug order' : '')}</td>
              <td>
                <code>{entry.deviceId}</code>
              </td>
              <td>{entry.student ?? ''}</td>
              <td>
                <SeatBadge state={entry.result} />
                {entry.reason && <div className="seat-reason">{entry.reason}</div>}
              </td>
              <td>{entry.seconds.toFixed(1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
