import type { DeviceView, UnstoredSeries } from '../../../../electron/contract/telemetry';

/** One card per device: online or not, where it reports from, its newest values; a click hides it from the chart. */
export function DeviceCards({
  devices,
  unstored,
  hidden,
  onToggle,
}: {
  devices: DeviceView[];
  /** Series InfluxDB refuses (Telegraf drops their points): marked "not stored". */
  unstored: UnstoredSeries[];
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
            <span className={`status-pill ${d.status}`} title={d.statusNote}>
              {d.status === 'unknown' ? 'status unknown' : d.status}
            </span>
            <span className="source">{d.source === 'serial' ? 'USB serial' : 'MQTT'}</span>
          </header>
          <dl>
            {d.last.map(({ field, v }) => {
              const refused = unstored.find((s) => s.field === field && (s.device ?? d.device) === d.device);
              return (
                <div key={field} data-unstored={refused ? 'true' : undefined}>
                  <dt>{field}</dt>
                  <dd>
                    {formatValue(v)}
                    {refused && (
                      <span className="unstored" title={refused.reason}>
                        {' '}
                        ⚠ not stored
                      </span>
                    )}
                  </dd>
                </div>
              );
            })}
          </dl>
          <footer>
            {d.lastSeen ? `last seen ${new Date(d.lastSeen).toLocaleTimeString()}` : 'no data yet'}
            {d.statusNote ? ` · ${d.statusNote}` : ''}
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
