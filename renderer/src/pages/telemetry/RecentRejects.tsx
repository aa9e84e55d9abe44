import { useState } from 'react';
import type { RejectedPayload } from '../../../../electron/contract/telemetry';
import { api } from '../../api/client';

/** What was rejected and why, fetched when opened (the newest 20; the count above is the total). */
export function RecentRejects({ count }: { count: number }) {
  const [rejects, setRejects] = useState<RejectedPayload[]>([]);
  if (count === 0) return null;
  const load = () =>
    void api()
      .call('telemetry.status', {})
      .then(
        (status) => setRejects(status.recentRejects.slice().reverse()),
        () => undefined,
      );
  return (
    <details className="rejects" onToggle={(e) => e.currentTarget.open && load()}>
      <summary>Why were payloads rejected?</summary>
      <table aria-label="Recent rejected payloads">
        <tbody>
          {rejects.map((r, i) => (
            <tr key={`${r.t}-${i}`}>
              <td>{new Date(r.t).toLocaleTimeString()}</td>
              <td>{r.topic}</td>
              <td>{r.reason}</td>
              <td>
                <code>{r.sample}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
