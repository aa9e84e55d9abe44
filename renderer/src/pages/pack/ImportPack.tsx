import { useState } from 'react';
import type { PackImportSummary, PackManifest } from '../../../../electron/contract/pack';
import { api } from '../../api/client';
import { formatBytes } from './formatBytes';
import { packFile } from './packContents';
import { PackParts } from './PackParts';
import { PackPhases } from './PackPhases';
import { IMPORT_PHASES } from './packTrack';
import { usePackOperation } from './usePackOperation';
import { PageMessage, showOutcome, type PageMessageState } from '../PageMessage';

/** Import a pack: read its manifest first, then verify, check the space, extract and install, with progress. */
export function ImportPack() {
  const [file, setFile] = useState('');
  const [manifest, setManifest] = useState<{ manifest: PackManifest; file: string }>();
  const [passphrase, setPassphrase] = useState('');
  const [summary, setSummary] = useState<PackImportSummary>();
  const [message, setMessage] = useState<PageMessageState>();
  const operation = usePackOperation();
  const busy = operation.busy;
  const current = manifest?.file === file.trim() ? manifest.manifest : undefined;
  const needsPassphrase = current?.parts.some((p) => p.kind === 'profiles') ?? false;

  const act = (work: () => Promise<string>) => showOutcome(setMessage, work);
  const inspect = () =>
    act(async () => {
      setSummary(undefined);
      operation.clear();
      const path = packFile(file);
      const read = await api().call('pack.inspect', { file: path });
      setManifest({ manifest: read, file: path });
      const bytes = read.parts.reduce((sum, p) => sum + p.bytes, 0);
      return `${read.name ?? 'This pack'} holds ${read.parts.length} parts, ${formatBytes(bytes)}.`;
    });
  const importPack = () =>
    act(async () => {
      if (!current) throw new Error('Read the pack first: its parts are shown before anything changes');
      if (needsPassphrase && !passphrase)
        throw new Error('The pack carries profiles: type the passphrase it was made with to decrypt them');
      setSummary(undefined);
      const done = await operation.run(IMPORT_PHASES, (operationId) =>
        api().call('pack.import', {
          operationId,
          file: manifest!.file,
          passphrase: needsPassphrase ? passphrase : undefined,
        }),
      );
      setPassphrase('');
      setSummary(done);
      const already = done.steps.filter((s) => s.result === 'already').length;
      const resumed = already ? ` (${already} already done by an earlier import)` : '';
      return `Imported in ${(done.ms / 1000).toFixed(1)} s: ${done.steps.length} steps${resumed}.`;
    });

  return (
    <section className="panel pack-import" aria-label="Import a pack">
      <h2>Import a pack</h2>
      <div className="toolbar">
        <label>
          Pack file (on the machine running Makerdeck)
          <input
            value={file}
            placeholder="/media/usb/room3.mdpack"
            onChange={(e) => {
              setFile(e.target.value);
              setMessage((m) => (m?.kind === 'error' ? undefined : m)); // it was about another path
            }}
            disabled={busy}
          />
        </label>
        <button type="button" className="secondary" onClick={() => void inspect()} disabled={busy}>
          Read pack
        </button>
      </div>
      {current && <ManifestView manifest={current} />}
      {current && (
        <div className="toolbar">
          {needsPassphrase && (
            <label>
              Passphrase (the profiles are encrypted with it)
              <input
                type="password"
                autoComplete="off"
                value={passphrase}
                onChange={(e) => setPassphrase(e.target.value)}
                disabled={busy}
              />
            </label>
          )}
          <button type="button" onClick={() => void importPack()} disabled={busy}>
            Import pack
          </button>
          {busy && (
            <button type="button" className="danger" onClick={operation.cancel}>
              Cancel
            </button>
          )}
        </div>
      )}
      {operation.track && <PackPhases track={operation.track} label="Import phases" />}
      <PageMessage message={message} testId="pack-import-message" />
      {summary && <ImportSummary summary={summary} />}
    </section>
  );
}

function ManifestView({ manifest }: { manifest: PackManifest }) {
  const by = manifest.createdBy;
  return (
    <div className="pack-manifest" data-testid="pack-manifest">
      <p className="muted">
        {manifest.name ? `${manifest.name} · ` : ''}made {new Date(manifest.createdAt).toLocaleString()} by Makerdeck{' '}
        {by.makerdeck} on {by.platform}-{by.arch} · id {manifest.id}
      </p>
      <PackParts parts={manifest.parts} label="Pack parts" />
    </div>
  );
}

function ImportSummary({ summary }: { summary: PackImportSummary }) {
  return (
    <div className="pack-summary" data-testid="pack-import-summary">
      <p className="muted">
        Needed {formatBytes(summary.spaceNeeded)} free
        {summary.arduinoCliConfig ? ` · arduino-cli now uses ${summary.arduinoCliConfig}` : ''}
      </p>
      <table className="services" aria-label="Import steps">
        <thead>
          <tr>
            <th>Part</th>
            <th>Detail</th>
            <th>Result</th>
          </tr>
        </thead>
        <tbody>
          {summary.steps.map((s, i) => (
            <tr key={`${s.part}-${i}`} data-part={s.part} data-result={s.result}>
              <td title={s.part}>{s.title}</td>
              <td>{s.detail ?? '—'}</td>
              <td className={s.result === 'done' ? 'state-healthy pack-result' : 'muted pack-result'}>
                {s.result === 'done' ? '✔ done' : '↺ already'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
