import { useEffect, useState, type FormEvent } from 'react';
import {
  isAvrBoard,
  isWifiBoard,
  mqttHostProblem,
  type ProfileDefaults,
  type ProfileFields,
  type ProfileView,
  type SecretChanges,
} from '../../../../electron/contract/profiles';
import { api } from '../../api/client';

const BOARDS = [
  ['esp32:esp32:esp32', 'ESP32 Dev Module'],
  ['esp8266:esp8266:nodemcuv2', 'ESP8266 NodeMCU 1.0'],
  ['arduino:avr:uno', 'Arduino Uno (USB serial, no Wi-Fi)'],
  ['arduino:avr:nano', 'Arduino Nano (USB serial, no Wi-Fi)'],
] as const;

type Draft = Omit<ProfileFields, 'mqttPort' | 'telemetryIntervalS'> & { mqttPort: string; telemetryIntervalS: string };

function draftOf(profile?: ProfileView): Draft {
  return {
    name: profile?.name ?? '',
    board: profile?.board ?? BOARDS[0][0],
    wifiSsid: profile?.wifiSsid ?? '',
    // A new Wi-Fi board gets this computer's LAN address (profiles.defaults) once it arrives.
    mqttHost: profile?.mqttHost ?? '',
    mqttPort: String(profile?.mqttPort ?? 1883),
    mqttTls: profile?.mqttTls ?? false,
    mqttUsername: profile?.mqttUsername ?? '',
    deviceId: profile?.deviceId ?? '',
    telemetryIntervalS: String(profile?.telemetryIntervalS ?? 10),
  };
}

interface Props {
  profile?: ProfileView;
  onSaved(profile: ProfileView, created: boolean): void;
  onError(message: string): void;
}

export function ProfileForm({ profile, onSaved, onError }: Props) {
  const [draft, setDraft] = useState(() => draftOf(profile));
  const [wifiPassword, setWifiPassword] = useState('');
  const [mqttPassword, setMqttPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [defaults, setDefaults] = useState<ProfileDefaults>();
  const set = (key: keyof Draft) => (value: string | boolean) => setDraft((d) => withDefaults({ ...d, [key]: value }));
  /** A new Wi-Fi board's empty host becomes the one boards reach the active environment's broker at. */
  const withDefaults = (d: Draft, given = defaults): Draft =>
    !profile && given?.wifiMqttHost && isWifiBoard(d.board) && d.mqttHost === ''
      ? { ...d, mqttHost: given.wifiMqttHost, mqttPort: String(given.mqttPort) }
      : d;

  useEffect(() => {
    api()
      .call('profiles.defaults', {})
      .then((given) => {
        setDefaults(given);
        setDraft((d) => withDefaults(d, given));
      })
      .catch(() => undefined); // the form works without a suggestion
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per form
  }, []);
  const hostProblem = mqttHostProblem(
    { board: draft.board, mqttHost: draft.mqttHost.trim() },
    defaults?.wifiMqttHost || undefined,
  );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    // Blank password boxes keep what is stored; only typed values are sent, once.
    const secrets: SecretChanges = {};
    if (wifiPassword) secrets.wifiPassword = wifiPassword;
    if (mqttPassword) secrets.mqttPassword = mqttPassword;
    const fields = { ...draft, mqttPort: Number(draft.mqttPort), telemetryIntervalS: Number(draft.telemetryIntervalS) };
    try {
      const saved = await api().call(
        'profiles.save',
        profile ? { ref: profile.id, fields, secrets } : { fields, secrets },
      );
      setWifiPassword('');
      setMqttPassword('');
      onSaved(saved, !profile);
    } catch (e) {
      onError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const clearSecret = async (field: keyof SecretChanges) => {
    if (!profile) return;
    try {
      onSaved(await api().call('profiles.save', { ref: profile.id, secrets: { [field]: null } }), false);
    } catch (e) {
      onError((e as Error).message);
    }
  };

  // Boards log in to the local stack's broker as its device user; the password stays in the keychain.
  const applyStackLogin = async () => {
    if (!profile) return;
    try {
      onSaved(await api().call('profiles.save', { ref: profile.id, stackDeviceLogin: true }), false);
    } catch (e) {
      onError((e as Error).message);
    }
  };

  return (
    <form
      className="profile-form"
      onSubmit={(e) => void submit(e)}
      aria-label={profile ? `Edit ${profile.name}` : 'New profile'}
    >
      <h2>{profile ? `Edit “${profile.name}”` : 'New profile'}</h2>
      <Field label="Name" value={draft.name} onChange={set('name')} required />
      <label>
        Board
        <select value={draft.board} onChange={(e) => set('board')(e.target.value)}>
          {BOARDS.map(([fqbn, label]) => (
            <option key={fqbn} value={fqbn}>
              {label}
            </option>
          ))}
          {!BOARDS.some(([fqbn]) => fqbn === draft.board) && <option value={draft.board}>{draft.board}</option>}
        </select>
      </label>
      <fieldset>
        <legend>Wi-Fi</legend>
        <Field label="SSID" value={draft.wifiSsid} onChange={set('wifiSsid')} />
        <SecretField
          label="Wi-Fi password"
          stored={profile?.secrets.wifiPassword}
          value={wifiPassword}
          onChange={setWifiPassword}
          onClear={() => void clearSecret('wifiPassword')}
        />
      </fieldset>
      <fieldset>
        <legend>MQTT broker</legend>
        <Field label="Host" value={draft.mqttHost} onChange={set('mqttHost')} required={!isAvrBoard(draft.board)} />
        {/* Beside the field, not in its label: the label stays "Host" for screen readers. */}
        {hostHint(draft, defaults) && <p className="muted">{hostHint(draft, defaults)}</p>}
        {hostProblem && draft.mqttHost.trim() !== '' && (
          <p className="error" role="alert">
            {hostProblem}
          </p>
        )}
        <Field label="Port" value={draft.mqttPort} onChange={set('mqttPort')} inputMode="numeric" />
        <label className="inline">
          <input type="checkbox" checked={draft.mqttTls} onChange={(e) => set('mqttTls')(e.target.checked)} /> TLS
        </label>
        <Field label="Username" value={draft.mqttUsername} onChange={set('mqttUsername')} />
        <SecretField
          label="MQTT password"
          stored={profile?.secrets.mqttPassword}
          value={mqttPassword}
          onChange={setMqttPassword}
          onClear={() => void clearSecret('mqttPassword')}
        />
        {profile && (
          <button
            type="button"
            className="secondary"
            onClick={() => void applyStackLogin()}
            title="Username makerdeck-device, password from the keychain: it may only publish this device's telemetry and status"
          >
            Use the local stack's device login
          </button>
        )}
      </fieldset>
      <Field
        label="Device id"
        value={draft.deviceId}
        onChange={set('deviceId')}
        required
        hint={draft.deviceId ? `Topic: makerdeck/${draft.deviceId}/telemetry` : undefined}
      />
      <Field
        label="Telemetry interval (s)"
        value={draft.telemetryIntervalS}
        onChange={set('telemetryIntervalS')}
        inputMode="numeric"
      />
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : profile ? 'Save changes' : 'Create profile'}
      </button>
    </form>
  );
}

function hostHint(draft: Draft, defaults?: ProfileDefaults): string | undefined {
  if (isAvrBoard(draft.board))
    return 'Optional: a USB serial board reports through the serial gateway, which publishes from this computer.';
  if (!isWifiBoard(draft.board) || defaults?.environment !== 'local') return undefined;
  if (!defaults.wifiMqttHost) return 'This computer has no LAN address right now: join the boards’ network first.';
  return `This computer's LAN address is ${defaults.wifiMqttHost}: open the broker to the LAN on the Stack page.`;
}

function Field(props: {
  label: string;
  value: string;
  onChange(value: string): void;
  required?: boolean;
  hint?: string;
  inputMode?: 'numeric';
}) {
  return (
    <label>
      {props.label}
      <input
        value={props.value}
        required={props.required}
        inputMode={props.inputMode}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.hint && <span className="muted">{props.hint}</span>}
    </label>
  );
}

function SecretField(props: {
  label: string;
  stored?: boolean;
  value: string;
  onChange(value: string): void;
  onClear(): void;
}) {
  return (
    <label>
      {props.label}
      <span className="secret-row">
        <input
          type="password"
          autoComplete="new-password"
          value={props.value}
          placeholder={props.stored ? 'stored in keychain — type to replace' : 'not set'}
          onChange={(e) => props.onChange(e.target.value)}
        />
        {props.stored && (
          <button type="button" className="secondary" onClick={props.onClear}>
            Remove
          </button>
        )}
      </span>
    </label>
  );
}
