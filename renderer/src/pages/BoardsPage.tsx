import { useCallback, useEffect, useState } from 'react';
import type { BoardCoreView } from '../../../electron/contract/boards';
import { api } from '../api/client';
import { CoreInstallProgress } from './boards/CoreInstallProgress';
import { useCoreInstall } from './boards/useCoreInstall';
import { PageMessage, showOutcome, type PageMessageState } from './PageMessage';

/** Board cores (arduino-cli platforms): what is installed, install one online or from a folder, remove. */
export function BoardsPage() {
  const [cores, setCores] = useState<BoardCoreView[]>([]);
  const [showAll, setShowAll] = useState(false);
  const [core, setCore] = useState('');
  const [folder, setFolder] = useState('');
  const [indexUrl, setIndexUrl] = useState('');
  const [message, setMessage] = useState<PageMessageState>();
  const installer = useCoreInstall();

  const refresh = useCallback(
    () =>
      api()
        .call('boards.list', { all: showAll })
        .then(setCores, (e: Error) => setMessage({ kind: 'error', text: e.message })),
    [showAll],
  );
  useEffect(() => void refresh(), [refresh]);

  const act = async (work: () => Promise<string>) => {
    await showOutcome(setMessage, work);
    await refresh();
  };
  const installed = (s: { installed: string[]; ms: number }) =>
    `Installed ${s.installed.join(', ')} in ${(s.ms / 1000).toFixed(1)} s.`;
  const busy = installer.busy;

  return (
    <section>
      <header className="page-header">
        <h1>Boards</h1>
      </header>
      <p className="lead">
        The board cores arduino-cli compiles with. Install one from the board-manager index, or offline from a folder
        (or .tar.gz) that holds a package_*_index.json and its archives.
      </p>
      <div className="toolbar">
        <label>
          Core
          <input
            value={core}
            placeholder="esp32:esp32 or esp32:esp32@3.0.7"
            onChange={(e) => setCore(e.target.value.trim())}
            disabled={busy}
          />
        </label>
        <button
          type="button"
          disabled={busy || !core}
          onClick={() =>
            void act(async () => {
              const [id, version] = core.split('@');
              return installed(await installer.install({ core: id!, version: version || undefined }));
            })
          }
        >
          Install
        </button>
        <label>
          Folder or archive
          <input
            value={folder}
            placeholder="/media/usb/esp32-cores"
            onChange={(e) => setFolder(e.target.value)}
            disabled={busy}
          />
        </label>
        <button
          type="button"
          disabled={busy || !folder}
          onClick={() => void act(async () => installed(await installer.install({ path: folder })))}
        >
          Install from folder
        </button>
        {busy && (
          <button type="button" className="danger" onClick={installer.cancel}>
            Cancel
          </button>
        )}
      </div>
      {busy && <CoreInstallProgress progress={installer.progress} />}
      <div className="toolbar">
        <label>
          Board index URL
          <input
            value={indexUrl}
            placeholder="https://espressif.github.io/arduino-esp32/package_esp32_index.json"
            onChange={(e) => setIndexUrl(e.target.value.trim())}
            disabled={busy}
          />
        </label>
        <button
          type="button"
          className="secondary"
          disabled={busy || !indexUrl}
          onClick={() => void act(async () => `Added ${(await api().call('boards.addIndex', { url: indexUrl })).url}.`)}
        >
          Add index
        </button>
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() =>
            void act(async () => {
              const summary = await api().call('boards.updateIndex', {});
              const failed = summary.failed.map((f) => `${f.index} (${f.error})`).join(', ');
              return `Updated ${summary.updated.join(', ') || 'no index'}${failed ? `; could not update ${failed}` : ''}.`;
            })
          }
        >
          Update indexes
        </button>
        <label>
          <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} /> Show available
        </label>
      </div>
      <PageMessage message={message} />
      <table className="services" aria-label="Board cores">
        <thead>
          <tr>
            <th>Core</th>
            <th>Name</th>
            <th>Installed</th>
            <th>Latest</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {cores.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                No board cores {showAll ? 'known: add a board index or install from a folder' : 'installed'}.
              </td>
            </tr>
          )}
          {cores.map((c) => (
            <tr key={c.id}>
              <td>{c.id}</td>
              <td title={c.boards.join(', ')}>{c.name}</td>
              <td>{c.installed ?? '—'}</td>
              <td>{c.latest ?? '—'}</td>
              <td>
                {c.installed ? (
                  <button
                    type="button"
                    className="danger"
                    disabled={busy}
                    onClick={() =>
                      void act(async () => `Removed ${(await api().call('boards.remove', { core: c.id })).removed}.`)
                    }
                  >
                    Remove
                  </button>
                ) : (
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => void act(async () => installed(await installer.install({ core: c.id })))}
                  >
                    Install
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
