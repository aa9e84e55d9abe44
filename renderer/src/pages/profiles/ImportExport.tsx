import { useState } from 'react';
import {
  PROFILE_FILE_MAX_BYTES,
  PROFILE_FILE_TOO_LARGE,
  type ProfileView,
} from '../../../../electron/contract/profiles';
import { api } from '../../api/client';
import { downloadText } from '../../download';

interface Props {
  /** With a profile: duplicate, export, delete it. Without: import one. */
  profile?: ProfileView;
  onDone(message: string, selectId?: string): void;
  onError(message: string): void;
}

export function ImportExport({ profile, onDone, onError }: Props) {
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [mqttHost, setMqttHost] = useState('');
  const guard = (work: () => Promise<void>) => () => void work().catch((e: Error) => onError(e.message));

  if (!profile) {
    const importFile = async (file: File) => {
      // Refused from its size, before reading: a wrong pick (a disk image) must not be loaded into the page.
      if (file.size > PROFILE_FILE_MAX_BYTES) {
        throw new Error(`${file.name} is ${file.size.toLocaleString('en-US')} bytes; ${PROFILE_FILE_TOO_LARGE}`);
      }
      const content = await file.text();
      const imported = await api().call('profiles.import', {
        content,
        passphrase: passphrase || undefined,
        mqttHost: mqttHost.trim() || undefined,
      });
      setPassphrase('');
      onDone([`Imported "${imported.name}".`, ...imported.warnings].join(' '), imported.id);
    };
    return (
      <div className="actions">
        <h3>Import a profile</h3>
        <PassphraseInput value={passphrase} onChange={setPassphrase} label="Passphrase (for exports with secrets)" />
        <label>
          MQTT host (optional: replaces the file's, e.g. this computer's LAN address)
          <input value={mqttHost} onChange={(e) => setMqttHost(e.target.value)} />
        </label>
        <label>
          Exported file
          <input
            type="file"
            accept=".json,application/json"
            onChange={(e) => e.target.files?.[0] && guard(() => importFile(e.target.files![0]!))()}
          />
        </label>
      </div>
    );
  }

  const exportProfile = async () => {
    // Typed twice: a typo would seal the secrets with a passphrase nobody knows.
    if (passphrase !== again)
      throw new Error('The two passphrases differ: nothing was exported; type the same one twice');
    const exported = await api().call('profiles.export', { ref: profile.id, passphrase: passphrase || undefined });
    setPassphrase('');
    setAgain('');
    downloadText(exported.fileName, exported.content, 'application/json');
    onDone(
      exported.encrypted
        ? `Exported "${profile.name}" with its secrets encrypted.`
        : `Exported "${profile.name}" without secrets.`,
    );
  };
  const duplicate = async () => {
    const copy = await api().call('profiles.duplicate', { ref: profile.id, name: `${profile.name} copy` });
    onDone(`Created "${copy.name}".`, copy.id);
  };
  const remove = async () => {
    if (!window.confirm(`Delete "${profile.name}" and its passwords from the keychain?`)) return;
    await api().call('profiles.delete', { ref: profile.id });
    onDone(`Deleted "${profile.name}".`, 'new');
  };

  return (
    <div className="actions">
      <h3>Share or remove</h3>
      <PassphraseInput
        value={passphrase}
        onChange={setPassphrase}
        label="Passphrase to include the secrets (leave blank to export without them)"
      />
      {passphrase && <PassphraseInput value={again} onChange={setAgain} label="The same passphrase again" />}
      <div className="button-row">
        <button type="button" onClick={guard(exportProfile)}>
          Export
        </button>
        <button type="button" className="secondary" onClick={guard(duplicate)}>
          Duplicate
        </button>
        <button type="button" className="danger" onClick={guard(remove)}>
          Delete
        </button>
      </div>
    </div>
  );
}

function PassphraseInput(props: { value: string; onChange(value: string): void; label: string }) {
  return (
    <label>
      {props.label}
      <input type="password" autoComplete="off" value={props.value} onChange={(e) => props.onChange(e.target.value)} />
    </label>
  );
}
