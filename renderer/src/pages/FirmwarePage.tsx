import { useEffect, useState } from 'react';
import type { CompileSummary, FirmwareProgress, FlashBoard } from '../../../electron/contract/firmware';
import { bootCheckLine, FLASH_BOARDS, flashBoardFor, imageLocation } from '../../../electron/contract/firmware';
import { uploadFirmware } from '../../../electron/contract/firmwareUpload';
import { api } from '../api/client';
import { PortInput } from './PortInput';
import { usePickedProfile } from './usePickedProfile';
import { ProvisionPanel } from './firmware/ProvisionPanel';
import { CoreInstallProgress } from './boards/CoreInstallProgress';
import { useCoreInstall } from './boards/useCoreInstall';
import { BuildCard } from './firmware/BuildCard';
import { ReleasePhases } from './firmware/ReleasePhases';
import { finishTrack, startTrack, trackProgress, type ReleaseTrack } from './firmware/releaseTrack';
import { PageMessage, showOutcome, type PageMessageState } from './PageMessage';

/** Build the firmware for a board (config-free, cached), flash it as a profile (config stamped in), or a file. */
export function FirmwarePage() {
  const [port, setPort] = useState('');
  const [board, setBoard] = useState<FlashBoard>('uno');
  const [file, setFile] = useState<File>();
  const [noStub, setNoStub] = useState(false);
  const [operationId, setOperationId] = useState<string>();
  const [progress, setProgress] = useState<Progress>();
  const [compiled, setCompiled] = useState<CompileSummary>();
  const [message, setMessage] = useState<PageMessageState>();
  const [track, setTrack] = useState<ReleaseTrack>(); // the phases of the last release
  const coreInstall = useCoreInstall();
  const [profiles, profile, setProfile] = usePickedProfile((text) => setMessage({ kind: 'error', text }));

  // The board follows the chosen profile's (a file's board is picked by hand).
  const profileBoard = flashBoardFor(profiles.find((p) => p.id === profile)?.board ?? '');
  useEffect(() => {
    if (profileBoard) setBoard(profileBoard);
  }, [profileBoard]);
  useEffect(
    () =>
      api().on('firmware.progress', (p) => {
        if (p.operationId !== operationId) return;
        setProgress((previous) => ({
          ...p,
          notice: p.notice ?? previous?.notice, // shown until the end
          startedAt: previous?.phase === p.phase ? previous.startedAt : Date.now(),
        }));
        setTrack((current) => current && trackProgress(current, p));
      }),
    [operationId],
  );

  const run = async (work: (id: string) => Promise<string>) => {
    const id = crypto.randomUUID();
    setOperationId(id);
    setProgress(undefined);
    try {
      await showOutcome(setMessage, () => work(id));
    } finally {
      setOperationId(undefined);
    }
  };

  const compile = () =>
    run(async (id) => {
      const fqbn = profiles.find((p) => p.id === profile)?.board;
      if (!fqbn) throw new Error('Pick a profile: its board is the one the firmware is built for');
      const summary = await api().call('firmware.compile', { operationId: id, board: fqbn });
      setCompiled(summary);
      if (!summary.success) throw new Error(summary.error ?? 'The firmware does not compile: see the messages below');
      const image = summary.image ? ` Image: ${imageLocation(summary.image)}.` : '';
      return summary.cached
        ? `Compiled for ${summary.fqbn} before: build ${summary.buildHash}, from the cache.${image}`
        : `Compiled for ${summary.fqbn} in ${(summary.ms / 1000).toFixed(1)} s: build ${summary.buildHash}.${image}`;
    });

  // A file is flashed as it is; a profile is released: its phases are listed, ending with the boot check.
  const flash = () =>
    run(async (id) => {
      setTrack(file ? undefined : startTrack());
      const source = file ? { uploadId: await upload(id, file) } : { profile };
      const romOnly = board === 'esp32' && noStub ? { noStub: true } : {};
      const summary = await api()
        .call('firmware.flash', { operationId: id, port, board, source, ...romOnly })
        .catch((e: Error) => {
          setTrack((current) => current && finishTrack(current, 'failed'));
          throw e;
        });
      setTrack((current) => current && finishTrack(current, { boot: summary.boot }));
      const by = summary.loader === 'rom' ? " by the ROM's loader" : '';
      const as = summary.release ? ` as ${summary.release.deviceId} (build ${summary.release.buildHash})` : '';
      const broker = summary.release?.brokerNotice ? ` Broker login: ${summary.release.brokerNotice}.` : '';
      const boot = summary.boot ? ` ${bootCheckLine(summary.boot)}` : '';
      const seconds = (summary.ms / 1000).toFixed(1);
      return `Flashed and verified ${summary.bytes} bytes${as}${by} in ${seconds} s.${broker}${boot}`;
    });
  const profileName = profiles.find((p) => p.id === profile)?.name;

  // The file travels in chunks (each far below a WebSocket frame), with its own progress bar.
  const upload = async (id: string, chosen: File) => {
    const startedAt = Date.now();
    const bytes = new Uint8Array(await chosen.arrayBuffer());
    const report = (bytesDone: number, bytesTotal: number) =>
      setProgress({ operationId: id, phase: 'upload', bytesDone, bytesTotal, startedAt });
    report(0, bytes.length);
    const { uploadId } = await uploadFirmware((name, args) => api().call(name, args), chosen.name, bytes, report);
    return uploadId;
  };

  // A compile for a board whose core is missing offers to install it; then Compile runs again.
  const installCore = async (core: string) => {
    setMessage(undefined);
    try {
      const summary = await coreInstall.install({ core });
      setCompiled(undefined);
      setMessage({ kind: 'notice', text: `Installed ${summary.installed.join(', ')}: compile again.` });
    } catch (e) {
      setMessage({ kind: 'error', text: (e as Error).message });
    }
  };

  const busy = operationId !== undefined || coreInstall.busy;
  const missing = compiled?.errorCode === 'core-missing' ? compiled.missingCore : undefined;
  return (
    <section>
      <header className="page-header">
        <h1>Firmware</h1>
      </header>
      <p className="lead">
        Build once per board — no passwords in a build — then flash it as a profile: its device id, Wi-Fi and MQTT
        settings are stamped into the image in memory, just before it goes over USB.
      </p>
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
        <PortInput value={port} onChange={setPort} disabled={busy} />
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
          Build
        </button>
        <button type="button" onClick={() => void flash()} disabled={busy || !port || (!profile && !file)}>
          {file ? 'Flash the file' : `Flash this board as ${profileName ?? '…'}`}
        </button>
        {operationId !== undefined && (
          <button
            type="button"
            className="danger"
            onClick={() => void api().call('operations.cancel', { operationId })}
          >
            Cancel
          </button>
        )}
      </div>
      {board === 'esp32' && (
        <details className="advanced">
          <summary>Advanced</summary>
          <label>
            <input type="checkbox" checked={noStub} onChange={(e) => setNoStub(e.target.checked)} disabled={busy} />
            ROM loader only: flash without the flasher stub (slower; for when the stub does not start)
          </label>
        </details>
      )}
      {compiled && <BuildCard build={compiled} />}
      {track && <ReleasePhases track={track} />}
      {operationId !== undefined && !track && <ProgressBar progress={progress} />}
      <PageMessage message={message} />
      {missing && (
        <div className="toolbar">
          <button type="button" onClick={() => void installCore(missing.core)} disabled={busy}>
            Install {missing.core}
          </button>
          <span className="muted">or run {missing.command}</span>
          {coreInstall.busy && (
            <button type="button" className="danger" onClick={coreInstall.cancel}>
              Cancel
            </button>
          )}
        </div>
      )}
      {coreInstall.busy && <CoreInstallProgress progress={coreInstall.progress} />}
      <ProvisionPanel port={port} />
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

/** The host's progress, or the page's own while it uploads a file. */
type Progress = Omit<FirmwareProgress, 'phase'> & { phase: FirmwareProgress['phase'] | 'upload'; startedAt: number };

function ProgressBar({ progress }: { progress?: Progress }) {
  if (!progress?.bytesTotal) return <progress aria-label={progress?.message ?? 'Working'} />;
  const done = progress.bytesDone ?? 0;
  const seconds = Math.max(0.001, (Date.now() - progress.startedAt) / 1000);
  return (
    <div className="progress-row">
      <progress aria-label={progress.phase} max={progress.bytesTotal} value={done} />
      <span className="muted">
        {progress.phase}: {(done / 1024).toFixed(1)} of {(progress.bytesTotal / 1024).toFixed(1)} KiB,{' '}
        {(done / 1024 / seconds).toFixed(1)} KiB/s{progress.notice ? ` — ${progress.notice}` : ''}
      </span>
    </div>
  );
}
