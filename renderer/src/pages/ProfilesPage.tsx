import { useCallback, useEffect, useState } from 'react';
import type { ProfileView } from '../../../electron/contract/profiles';
import { api } from '../api/client';
import { ProfileForm } from './profiles/ProfileForm';
import { ImportExport } from './profiles/ImportExport';

/** Create, edit, duplicate, delete, export and import device profiles; secrets are write-only here. */
export function ProfilesPage() {
  const [profiles, setProfiles] = useState<ProfileView[]>([]);
  const [selected, setSelected] = useState<string | 'new'>('new');
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const reload = useCallback(async () => {
    try {
      setProfiles(await api().call('profiles.list', {}));
      setError(undefined);
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);

  useEffect(() => void reload(), [reload]);
  useEffect(() => api().on('profiles.changed', () => void reload()), [reload]);

  const current = profiles.find((p) => p.id === selected);
  const fail = (message: string) => {
    setError(message);
    setNotice(undefined);
  };
  const done = (message: string, id?: string) => {
    setNotice(message);
    setError(undefined);
    if (id !== undefined) setSelected(id);
    void reload();
  };

  return (
    <section>
      <header className="page-header">
        <h1>Profiles</h1>
        <button type="button" onClick={() => setSelected('new')}>
          New profile
        </button>
      </header>
      <p className="lead">
        A profile is what one board needs: Wi-Fi, the MQTT broker and its device id. Passwords go to your OS keychain
        and never come back to this page.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <div className="split">
        <ul className="profile-list" aria-label="Profiles">
          {profiles.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                className={p.id === selected ? 'item active' : 'item'}
                onClick={() => setSelected(p.id)}
              >
                <strong>{p.name}</strong>
                <span className="muted">
                  {p.board} · {p.deviceId}
                </span>
              </button>
            </li>
          ))}
          {profiles.length === 0 && !error && (
            <li className="muted">No profiles yet: fill in the form to create one.</li>
          )}
        </ul>
        <div className="panel">
          <ProfileForm
            key={current?.id ?? 'new'}
            profile={current}
            onSaved={(p, created) => done(`${created ? 'Created' : 'Saved'} "${p.name}".`, p.id)}
            onError={fail}
          />
          {current && <ImportExport profile={current} onDone={done} onError={fail} />}
          {!current && <ImportExport onDone={done} onError={fail} />}
        </div>
      </div>
    </section>
  );
}
