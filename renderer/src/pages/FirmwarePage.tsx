import { useEffect, useState } from 'react';
import type { CompileSummary, FirmwareProgress, FlashBoard, SerialPortView } from '../../../electron/contract/firmware';
import { FLASH_BOARDS } from '../../../electron/contract/firmware';
import type { ProfileView } from '../../../electron/contract/profiles';
import { api } from '../api/client';
import { PortInput } from './PortInput';

/** Compile a profile's firmware and flash it (or a file) with a progress bar; cancel any time. */
export function FirmwarePage() {
  const [profiles, setProfiles] = useState<ProfileView[]>([]);
  const [ports, setPorts] = useState<SerialPortView[]>([]);
  const [profile, setProfile] = useState('');
  const [port, setPort] = useState('');
  const [board, setBoard] = useState<FlashBoard>('uno');
  const [file, setFile] = useState<File>();
  const [operationId, setOperationId] = useState<string>();
  const [progress, setProgress] = useState<FirmwareProgress & { startedAt: number }>();
  const [compiled, setCompiled] = useState<CompileSummary>();
  const [message, setMessage] = useState<{ kind: 'error' | 'notice'; text: string }>();

  useEffect(() => {
    api().call('profiles.list', {}).then((list) => {
      setProfiles(list);
      setProfile((current) => current || list[0]?.id || '');
    }, (e: Error) => setMessage({ kind: 'error', text: e.message }));
    api().call('serial.list', {}).then((list) => {
      setPorts(list);
      setPort((current) => current || list[0]?.path || '');
    }, (e: Error) => setMessage({ kind: 'error', text: e.message }));
  }, []);
  useEffect(
    () =>
      api().on('firmware.progress', (p) => {
        if (p.operationId !== operationId) return;
        setProgress((previous) => ({ ...p, startedAt: previous?.phase === p.phase ? previous.startedAt : Date.now() }));
      }),
    [operationId],
  );

  const run = async (work: (id: string) => Promise<string>) => {
    const id = crypto.randomUUID();
    setOperationId(id);
    setProgress(undefined);
    setMessage(undefined);
    try {
      setMessage({ kind: 'notice', text: await work(id) });
    } catch (e) {
      setMessage({ kind: 'error', text: (e as Error).message });
    } finally {
      setOperationId(undefined);
    }
  };

  const compile = () =>
    run(async (id) => {
      const summary = await api().call('firmware.compile', { operationId: id, profile });
      setCompiled(summary);
      if (!summary.success) throw new Error(summary.error ?? 'The firmware does not compile: see the messages below');
      return `Compiled for ${summary.fqbn} in ${(summary.ms / 1000).toFixed(1)} s.`;
    });

  const flash = () =>
    run(async (id) => {
      const source = file ? { fileName: file.name, contentBase64: await toBase64(file) } : { profile };
      const summary = await api().call('firmware.flash', { operationId: id, port, board, source });
      return `Flashed and verified ${summary.bytes} bytes in ${(summary.ms / 1000).toFixed(1)} s.`;
    });

  const busy = operationId !== undefined;
  return (
    <section>
      <header className="page-header">
        <h1>Firmware</h1>
      </header>
      <p className="lead">Build the firmware for a profile — its passwords go into a private, throwaway copy — and flash it over USB.</p>
      <div className="toolbar">
        <label>
          Profile
          <select value={profile} onChange={(e) => setProfile(e.target.value)} disabled={busy}>
            {profiles.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.board})
              </option>
            ))}
          </select>
        </label>
        <label>
          Or a file (.hex / .bin)
          <input type="file" accept=".hex,.bin" onChange={(e) => setFile(e.target.files?.[0])} disabled={busy} />
        </label>
        <PortInput ports={ports} value={port} onChange={setPort} disabled={busy} />
        <label>
          Board
          <select value={board} onChange={(e) => setBoard(e.target.value as FlashBoard)} disabled={busy}>
            {FLASH_BOARDS.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void compile()} disabled={busy || !profile}>
          Compile
        </button>
        <button type="button" onClick={() => void flash()} disabled={busy || !port || (!profile && !file)}>
          Flash
        </button>
        {busy && (
          <button type="button" className="danger" onClick={() => void api().call('operations.cancel', { operationId: operationId! })}>
            Cancel
          </button>
        )}
      </div>
      {busy && <ProgressBar progress={progress} />}
      {message && (
        <p className={message.kind} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      {compiled && compiled.diagnostics.length > 0 && (
        <ul className="diagnostics" aria-label="Compiler messages">
          {compiled.diagnostics.map((d, i) => (
            <li key={i} className={d.severity}>
              {d.file}:{d.line}
              {d.column ? `:${d.column}` : ''} {d.severity}: {d.message}
              {d.source && <pre>{d.source}</pre>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ProgressBar({ progress }: { progress?: FirmwareProgress & { startedAt: number } }) {
  if (!progress?.bytesTotal) return <progress aria-label={progress?.message ?? 'Working'} />;
  const done = progress.bytesDone ?? 0;
  const seconds = Math.max(0.001, (Date.now() - progress.startedAt) / 1000);
  return (
    <div className="progress-row">
      <progress aria-label={progress.phase} max={progress.bytesTotal} value={done} />
      <span className="muted">
        {progress.phase}: {(done / 1024).toFixed(1)} of {(progress.bytesTotal / 1024).toFixed(1)} KiB, {(done / 1024 / seconds).toFixed(1)} KiB/s
      </span>
    </div>
  );
}

async function toBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
