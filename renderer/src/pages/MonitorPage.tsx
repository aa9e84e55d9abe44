import { useEffect, useRef, useState } from 'react';
import { BAUD_RATES, type MonitorLines, type MonitorState } from '../../../electron/contract/monitor';
import { api } from '../api/client';
import { downloadText } from '../download';
import { PortInput } from './PortInput';
import { LineList } from './monitor/LineList';
import { LineBuffer, SeriesBuffer } from './monitor/lineBuffer';
import { Plotter } from './monitor/Plotter';

const MAX_LINES = 100_000;
const MAX_POINTS = 10_000;

/** Serial monitor and plotter: lines with timestamps, pause, send, save; every numeric series plotted. */
export function MonitorPage() {
  const [port, setPort] = useState('');
  const [baud, setBaud] = useState(115200);
  const [sessionId, setSessionId] = useState<string>();
  const [follow, setFollow] = useState(true);
  const [paused, setPaused] = useState(false);
  const [outgoing, setOutgoing] = useState('');
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);
  const lines = useRef(new LineBuffer(MAX_LINES)).current;
  const series = useRef(new Map<string, SeriesBuffer>()).current;
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  // The session the events are for, read by the listeners at once (state lags a render behind).
  // While monitor.open is under way its id is unknown, yet the port may already send lines or
  // close: those events wait in `early` until the answer names the session.
  const current = useRef<string | 'opening' | undefined>(undefined);
  const early = useRef<Array<MonitorLines | MonitorState>>([]);

  const take = (batch: MonitorLines) => {
    if (pausedRef.current) return;
    lines.push(batch.lines);
    for (const line of batch.lines) {
      for (const [name, value] of Object.entries(line.values ?? {})) {
        if (!series.has(name)) series.set(name, new SeriesBuffer(MAX_POINTS));
        series.get(name)!.push(line.t, value);
      }
    }
    setVersion(lines.version);
  };
  const ended = (state: MonitorState) => {
    current.current = undefined;
    setSessionId(undefined);
    if (state.reason) setError(`${state.port} closed: ${state.reason}`);
  };
  // Both use only refs and state setters, which stay the same: the first render's copies serve.
  const handlers = useRef({ take, ended }).current;

  useEffect(() => {
    const forSession = (event: MonitorLines | MonitorState, handle: () => void) => {
      if (current.current === 'opening') early.current.push(event);
      else if (event.sessionId === current.current) handle();
    };
    const offLines = api().on('monitor.lines', (batch) => forSession(batch, () => handlers.take(batch)));
    const offState = api().on('monitor.state', (state) => {
      if (state.state === 'closed') forSession(state, () => handlers.ended(state));
    });
    return () => {
      offLines();
      offState();
    };
  }, [handlers]);

  const connect = async () => {
    setError(undefined);
    lines.clear();
    series.clear();
    current.current = 'opening';
    early.current = [];
    try {
      const { sessionId: id } = await api().call('monitor.open', { port, baudRate: baud });
      current.current = id;
      setSessionId(id);
      for (const event of early.current.splice(0)) {
        if (event.sessionId !== id) continue;
        if ('lines' in event) take(event);
        else ended(event);
      }
    } catch (e) {
      // A second click's refusal ("already open") must not orphan the first click's session.
      if (current.current === 'opening') current.current = undefined;
      setError((e as Error).message);
    }
  };
  const disconnect = async () => {
    current.current = undefined;
    if (sessionId)
      await api()
        .call('monitor.close', { sessionId })
        .catch(() => undefined);
    setSessionId(undefined);
  };
  const send = async () => {
    if (!sessionId) return;
    try {
      await api().call('monitor.send', { sessionId, line: outgoing, ending: 'lf' });
      setOutgoing('');
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const save = () => {
    downloadText(`serial-${new Date().toISOString().replace(/[:.]/g, '-')}.log`, lines.toText(), 'text/plain');
  };

  return (
    <section className="monitor-page">
      <header className="page-header">
        <h1>Serial monitor</h1>
      </header>
      <div className="toolbar">
        <PortInput value={port} onChange={setPort} disabled={!!sessionId} />
        <label>
          Baud
          <select value={baud} onChange={(e) => setBaud(Number(e.target.value))} disabled={!!sessionId}>
            {BAUD_RATES.map((rate) => (
              <option key={rate} value={rate}>
                {rate}
              </option>
            ))}
          </select>
        </label>
        {sessionId ? (
          <button type="button" onClick={() => void disconnect()}>
            Disconnect
          </button>
        ) : (
          <button type="button" onClick={() => void connect()} disabled={!port}>
            Connect
          </button>
        )}
        <label className="inline">
          <input type="checkbox" checked={paused} onChange={(e) => setPaused(e.target.checked)} /> Pause
        </label>
        <label className="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Auto-scroll
        </label>
        <button type="button" className="secondary" onClick={save} disabled={lines.length === 0}>
          Save…
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <LineList buffer={lines} version={version} follow={follow} />
      <form
        className="send-row"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <input
          aria-label="Line to send"
          value={outgoing}
          onChange={(e) => setOutgoing(e.target.value)}
          disabled={!sessionId}
        />
        <button type="submit" disabled={!sessionId}>
          Send
        </button>
      </form>
      <h2>Plotter</h2>
      <Plotter series={series} version={version} />
    </section>
  );
}
