import type { LabSeatView } from '../../../../electron/contract/lab';
import { portName } from './PortCard';
import { SeatBadge } from './SeatBadge';

/** Every seat of the lab: who sits there, the board's id, its state (with why) and where it was flashed. */
export function RosterTable({
  seats,
  busy,
  onRetry,
}: {
  seats: LabSeatView[];
  busy: boolean;
  onRetry(deviceId: string): void;
}) {
  return (
    <table className="services roster" aria-label="Roster">
      <thead>
        <tr>
          <th>Seat</th>
          <th>Student</th>
          <th>Device id</th>
          <th>State</th>
          <th>Port</th>
          <th>Build</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {seats.map((seat) => (
          <tr key={seat.deviceId} data-device={seat.deviceId} data-state={seat.state}>
            <td>{seat.seat}</td>
            <td>{seat.student ?? ''}</td>
            <td>
              <code>{seat.deviceId}</code>
            </td>
            <td>
              <SeatBadge state={seat.state} />
              {seat.reason && <div className="seat-reason">{seat.reason}</div>}
              {seat.identity?.kind === 'port-order' && (
                <div className="muted">told apart by port and plug order (no own USB serial)</div>
              )}
            </td>
            <td title={seat.port}>{seat.port ? portName(seat.port) : ''}</td>
            <td>{seat.buildHash ? <code>{seat.buildHash}</code> : ''}</td>
            <td>
              {(seat.state === 'failed' || seat.state === 'silent') && (
                <button type="button" className="secondary" disabled={busy} onClick={() => onRetry(seat.deviceId)}>
                  Retry
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
