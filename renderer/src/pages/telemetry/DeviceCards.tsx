import type { DeviceView } from '../../../../electron/contract/telemetry';

/** One card per device: online or not, where it reports from, its newest values; a click hides it from the chart. */
export function DeviceCards({
  devices,
  hidden,
  onToggle,
}: {
  devices: DeviceView[];
  hidden: Set<string>;
  onToggle(device: string): void;
}) {
  if (devices.length === 0) return null;
  return (
    <ul className="device-cards" aria-label="Devices">
      {devices.map((d) => (
        <li
          key={d.device}
          className={`device-card ${d.status}`}
          data-testid={`device-${d.device}`}
          data-status={d.status}
        >
          <header>
            <strong>{d.device}</strong>
            <span className={`status-pill ${d.status}`}>{d.status === 'unknown' ? 'status unknown' : d.status}</span>
            <span className="source">{d.source === 'serial' ? 'USB serial' : 'MQTT'}</span>
          </header>
          <dl>
            {d.last.map(({ field, v }) => (
              <div key={field}>
                <dt>{field}</dt>
                <dd>{formatValue(v)}</dd>
              </div>
            ))}
          </dl>
          <footer>
            {d.lastSeen ? `last seen ${new Date(d.lastSeen).toLocaleTimeString()}` : 'no data yet'}
            <label className="inline">
              <input type="checkbox" checked={!hidden.has(d.device)} onChange={() => onToggle(d.device)} /> on chart
            </label>
          </footer>
        </li>
      ))}
    </ul>
  );
}

function formatValue(value: number): string {
  return Number.isInteger(value)
    ? value.toLocaleString()
    : value.toLocaleString(undefined, { maximumFractionDigits: 3 });
}
