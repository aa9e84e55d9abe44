import type { StationPortView } from '../../../../electron/contract/lab';
import { PhaseBadge } from './SeatBadge';

/** One port the station works on: the board's identity, its seat, the phase with progress, and why it failed. */
export function PortCard({ port }: { port: StationPortView }) {
  const total = port.bytesTotal ?? 0;
  const done = Math.min(port.bytesDone ?? 0, total);
  return (
    <li className={`port-card phase-${port.phase}`} data-testid={`port-${port.port}`} data-phase={port.phase}>
      <header>
        <strong title={port.port}>{portName(port.port)}</strong>
        <PhaseBadge phase={port.phase} />
      </header>
      <p>
        {port.deviceId ? <code>{port.deviceId}</code> : <span className="muted">no seat yet</span>}
        {port.student ? ` · ${port.student}` : ''}
      </p>
      {total > 0 && (
        <div className="progress-row">
          <progress aria-label={`${port.port} progress`} max={total} value={done} />
          <span className="muted">
            {(done / 1024).toFixed(1)} of {(total / 1024).toFixed(1)} KiB
          </span>
        </div>
      )}
      {port.message && <p className="muted">{port.message}</p>}
      {port.reason && (
        <p className="error" data-testid="port-reason">
          <span aria-hidden="true">✘</span> {port.reason}
        </p>
      )}
      <footer className="muted">{identityText(port)}</footer>
    </li>
  );
}

function identityText(port: StationPortView): string {
  const identity = port.identity;
  if (!identity) return 'identifying…';
  const usb = identity.vidPid ? ` (USB ${identity.vidPid})` : '';
  return identity.kind === 'usb-serial'
    ? `USB serial ${identity.usbSerial ?? '?'}${usb}`
    : `told apart by port and plug order${usb}`;
}

/** The port's device name (ttyACM0, COM3): the folder it lives in says nothing to a teacher. */
export function portName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}
