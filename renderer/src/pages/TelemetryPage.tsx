import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { seriesKey, type TelemetryState } from '../../../electron/contract/telemetry';
import { toCsv, toLineProtocol } from '../../../electron/contract/telemetryExport';
import { api } from '../api/client';
import { downloadBlob, downloadText } from '../download';
import { PortInput } from './PortInput';
import { TelemetryChart, type ChartSeries, type TelemetryChartHandle, type TimeRange } from './telemetry/chart';
import { DeviceCards } from './telemetry/DeviceCards';
import { RecentRejects } from './telemetry/RecentRejects';
import { LiveTelemetry, MAX_SERIES_ON_SCREEN, type Snapshot } from './telemetry/liveTelemetry';
import { TeacherGrid } from './telemetry/TeacherGrid';
import { useLabFilter } from './telemetry/useLabFilter';

const WINDOWS: Array<[string, number]> = [
  ['1 min', 60_000],
  ['5 min', 300_000],
  ['15 min', 900_000],
  ['1 h', 3_600_000],
  ['6 h', 21_600_000],
  ['24 h', 86_400_000],
];
const COLORS = [
  '#2b6cb0',
  '#c05621',
  '#2f855a',
  '#b83280',
  '#6b46c1',
  '#c53030',
  '#2c7a7b',
  '#975a16',
  '#4a5568',
  '#d69e2e',
  '#3182ce',
  '#38a169',
];

/** Live charts from the broker and the serial gateway, history from InfluxDB, export of the window. */
export function TelemetryPage() {
  const live = useMemo(() => new LiveTelemetry(), []);
  const [snapshot, setSnapshot] = useState<Snapshot>({ devices: [], accepted: 0, rejected: 0 });
  const [spanMs, setSpanMs] = useState(300_000);
  const [paused, setPaused] = useState(false);
  const [range, setRange] = useState<TimeRange | null>(null);
  const [field, setField] = useState('');
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string>();
  const chart = useRef<TelemetryChartHandle>(null);
  const labFilter = useLabFilter();
  const latest = useRef(snapshot);
  latest.current = snapshot;
  const knownDevices = useCallback(() => latest.current.devices, []);

  useEffect(() => {
    live.start();
    const off = live.subscribe(setSnapshot);
    // Opening the page means watching: connect unless already connected.
    void api()
      .call('telemetry.status', {})
      .then((status) => (status.broker.state === 'disconnected' ? api().call('telemetry.connect', {}) : undefined))
      .catch((e: Error) => setError(e.message));
    return () => {
      off();
      live.stop();
    };
  }, [live]);

  // A lab chosen: only its boards, on the chart and in the grid.
  const labDevices = labFilter.seats && new Set(labFilter.seats.map((seat) => seat.deviceId));
  const devices = labDevices ? snapshot.devices.filter((d) => labDevices.has(d.device)) : snapshot.devices;
  const fields = [...new Set(devices.flatMap((d) => d.last.map((l) => l.field)))].sort();
  const shownField = field || fields[0] || '';
  const series = devices
    .filter((d) => !hidden.has(d.device) && d.last.some((l) => l.field === shownField))
    .slice(0, MAX_SERIES_ON_SCREEN)
    .map((d) => ({ device: d.device, field: shownField }));
  const chartSeries: ChartSeries[] = series.map((s, i) => ({
    key: seriesKey(s.device, s.field),
    label: `${s.device} ${s.field}`,
    color: COLORS[i % COLORS.length]!,
  }));
  const seriesId = JSON.stringify(series);
  // seriesId stands for `series`: a new array naming the same lines must not restart the view.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => live.show(series, spanMs), [live, seriesId, spanMs]);

  const exportAs = (format: 'csv' | 'line-protocol') => {
    const points = chart.current?.visiblePoints() ?? [];
    const data = points.map((p) => {
      const [device, ...rest] = p.key.split('/');
      const integer = live.integers.has(p.key);
      return {
        device: device!,
        field: rest.join('/'),
        t: [...p.times],
        v: [...p.values],
        ...(integer ? { integer } : {}),
      };
    });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    if (format === 'csv') downloadText(`telemetry-${stamp}.csv`, toCsv(data), 'text/csv');
    else downloadText(`telemetry-${stamp}.lp`, toLineProtocol(data), 'text/plain');
  };

  return (
    <section className="telemetry-page" aria-label="Telemetry">
      <h1>Telemetry</h1>
      <BrokerBar state={snapshot.state} onError={setError} />
      <StorageWarning state={snapshot.state} />
      {snapshot.historyError && (
        <p className="warning" role="status">
          History unavailable — showing live data only, retrying by itself: {snapshot.historyError}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="toolbar">
        <label>
          Lab
          <select aria-label="Lab" value={labFilter.lab} onChange={(e) => labFilter.setLab(e.target.value)}>
            <option value="">All devices</option>
            {labFilter.labs.map((lab) => (
              <option key={lab.id} value={lab.id}>
                {lab.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Window
          <select
            value={spanMs}
            onChange={(e) => {
              setSpanMs(Number(e.target.value));
              setRange(null);
            }}
          >
            {WINDOWS.map(([label, ms]) => (
              <option key={ms} value={ms}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Field
          <select value={shownField} onChange={(e) => setField(e.target.value)} disabled={fields.length === 0}>
            {fields.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setPaused(!paused)} aria-pressed={paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        {range && (
          <button type="button" onClick={() => setRange(null)}>
            Back to live
          </button>
        )}
        <button type="button" className="secondary" onClick={() => exportAs('csv')} disabled={series.length === 0}>
          Export CSV
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => exportAs('line-protocol')}
          disabled={series.length === 0}
        >
          Export line protocol
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => void chart.current?.toPng().then((png) => downloadBlob('telemetry.png', png))}
          disabled={series.length === 0}
        >
          Save PNG
        </button>
      </div>
      <div className="chart-panel" data-testid="telemetry-panel" data-series={chartSeries.map((s) => s.key).join(',')}>
        {series.length === 0 ? (
          <p className="hint">
            No telemetry yet. Devices publish to makerdeck/&lt;device&gt;/telemetry; a board on USB can be read by the
            serial gateway below.
          </p>
        ) : (
          <TelemetryChart
            ref={chart}
            series={chartSeries}
            source={live.store}
            spanMs={spanMs}
            range={range}
            paused={paused}
            onZoom={setRange}
          />
        )}
        <p className="hint">Drag to zoom, shift+drag to pan, double-click for live.</p>
      </div>
      {labFilter.error && (
        <p className="error" role="alert">
          {labFilter.error}
        </p>
      )}
      {labFilter.seats && <TeacherGrid seats={labFilter.seats} field={shownField} known={knownDevices} />}
      <DeviceCards
        devices={labFilter.seats ? [] : snapshot.devices}
        unstored={snapshot.state?.storage?.series ?? []}
        hidden={hidden}
        onToggle={(device) => setHidden(toggle(hidden, device))}
      />
      <p className="counts" data-testid="telemetry-counts">
        {snapshot.accepted.toLocaleString()} points received ·{' '}
        <span data-testid="rejected-count">{snapshot.rejected.toLocaleString()}</span> rejected
      </p>
      <RecentRejects count={snapshot.rejected} />
      <Gateway state={snapshot.state} onError={setError} />
    </section>
  );
}

function toggle(set: Set<string>, item: string): Set<string> {
  const next = new Set(set);
  if (!next.delete(item)) next.add(item);
  return next;
}

/** Telegraf drops points (InfluxDB refuses them): which series have no history from now on, and why. */
function StorageWarning({ state }: { state?: TelemetryState }) {
  const storage = state?.storage;
  if (!storage || storage.state === 'ok') return null;
  return (
    <div className="warning" role="alert" data-testid="storage-warning" data-state={storage.state}>
      <p>Not stored in InfluxDB — Telegraf is {storage.message}</p>
      {storage.series.length > 0 && (
        <ul>
          {storage.series.map((s) => (
            <li key={`${s.device ?? ''}/${s.measurement}/${s.field}`} data-testid="unstored-series">
              {s.device ?? 'a device'} · {s.field} ({s.measurement}): {s.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function BrokerBar({ state, onError }: { state?: TelemetryState; onError(message: string): void }) {
  const broker = state?.broker;
  const connected = broker?.state === 'connected';
  const text =
    broker?.state === 'connected'
      ? `Connected to ${broker.url}`
      : broker?.state === 'connecting'
        ? `Connecting to ${broker.url ?? 'the broker'}…`
        : broker?.state === 'reconnecting'
          ? `Broker unreachable — reconnecting by itself. ${broker.message ?? ''}`
          : 'Not connected to a broker';
  const act = (name: 'telemetry.connect' | 'telemetry.disconnect') =>
    void api()
      .call(name, {})
      .catch((e: Error) => onError(e.message));
  return (
    <div
      className={`broker-bar ${broker?.state ?? 'disconnected'}`}
      role="status"
      data-testid="broker-state"
      data-state={broker?.state ?? 'disconnected'}
    >
      <span>{text}</span>
      {broker?.state === 'disconnected' || !broker ? (
        <button type="button" onClick={() => act('telemetry.connect')}>
          Connect
        </button>
      ) : (
        <button type="button" className="secondary" onClick={() => act('telemetry.disconnect')}>
          {connected ? 'Disconnect' : 'Stop trying'}
        </button>
      )}
    </div>
  );
}

function Gateway({ state, onError }: { state?: TelemetryState; onError(message: string): void }) {
  const [port, setPort] = useState('');
  const gateway = state?.gateway;
  const start = () =>
    void api()
      .call('telemetry.gatewayStart', { port, baudRate: 115200 })
      .catch((e: Error) => onError(e.message));
  const stop = () =>
    void api()
      .call('telemetry.gatewayStop', {})
      .catch((e: Error) => onError(e.message));
  return (
    <fieldset className="gateway">
      <legend>Serial gateway (a board without Wi-Fi, on USB)</legend>
      {gateway ? (
        <p role="status" data-testid="gateway-state">
          Reading {gateway.port}
          {gateway.device ? ` (${gateway.device})` : ''}: {gateway.published} lines sent to the broker
          {gateway.queued > 0 ? `, ${gateway.queued} waiting for it` : ''}. {gateway.message ?? ''}
          <button type="button" className="secondary" onClick={stop}>
            Stop gateway
          </button>
        </p>
      ) : (
        <div className="toolbar">
          <PortInput value={port} onChange={setPort} />
          <button type="button" onClick={start} disabled={!port}>
            Start gateway
          </button>
        </div>
      )}
    </fieldset>
  );
}
