// Field re-provisioning over Improv serial: read a running board's info, scan the networks it sees,
// and set its Wi-Fi (a profile's, or typed and then kept on that profile) and/or its device id.
import { useEffect, useState } from 'react';
import type { DeviceInfo } from '../../../../electron/contract/device';
import type { ProfileView } from '../../../../electron/contract/profiles';
import { api } from '../../api/client';

type Line = { kind: 'status' | 'error'; text: string };

function describeInfo(info: DeviceInfo): string {
  const id = info.deviceId || '(no device id)';
  if (info.source === 'improv') return `${id}: ${info.firmware} ${info.build} on ${info.chip} (not Makerdeck firmware)`;
  if (!info.provisioned) return `${info.chip}, build ${info.build}: not provisioned — flash it as a profile`;
  const set = info.overridden?.deviceId || info.overridden?.wifi ? ' (values set on the board)' : '';
  const wifi = info.wifiSsid ? `, Wi-Fi ${info.wifiSsid}` : '';
  return `${id} on ${info.chip}, build ${info.build}${wifi}${set}`;
}

/** Works on the port picked on the Firmware page (one port list per page). */
export function ProvisionPanel({ port }: { port: string }) {
  const [profiles, setProfiles] = useState<ProfileView[]>([]);
  const [profile, setProfile] = useState('');
  const [ssid, setSsid] = useState('');
  const [password, setPassword] = useState('');
  const [deviceId, setDeviceId] = useState('');
  const [busy, setBusy] = useState(false);
  const [lines, setLines] = useState<Line[]>([]);

  useEffect(() => {
    api()
      .call('profiles.list', {})
      .then(setProfiles, () => setProfiles([]));
  }, []);

  const run = async (what: string, work: () => Promise<string[]>) => {
    setBusy(true);
    try {
      const texts = await work();
      setLines(texts.map((text) => ({ kind: 'status', text })));
    } catch (e) {
      setLines([{ kind: 'error', text: `${what}: ${(e as Error).message}` }]);
    } finally {
      setBusy(false);
    }
  };

  const readInfo = () => run('Read info', async () => [describeInfo(await api().call('device.info', { port }))]);
  const scan = () =>
    run('Scan', async () => {
      const found = await api().call('device.scan', { port });
      if (!found.wifi) return ['This board has no Wi-Fi.'];
      if (found.networks.length === 0) return ['The board sees no Wi-Fi network.'];
      return found.networks.map((n) => `${n.ssid} — ${n.rssi} dBm${n.secured ? '' : ', open'}`);
    });
  const provision = () =>
    run('Provision', async () => {
      const done = await api().call('device.provision', {
        port,
        ...(profile ? { profile } : {}),
        ...(ssid ? { ssid, password } : {}),
        ...(deviceId ? { deviceId } : {}),
      });
      setPassword('');
      return [
        ...(done.deviceId ? [`Device id is now ${done.deviceId}.`] : []),
        ...(done.wifiSsid ? [`Joined ${done.wifiSsid}.`] : []),
        ...(done.savedToProfile ? [`Password kept in the keychain on ${done.savedToProfile}.`] : []),
      ];
    });

  return (
    <details className="advanced" data-testid="provision-panel">
      <summary>Provision a running board (Improv serial): Wi-Fi and device id, no compile</summary>
      <p className="muted">On the port above{port ? ` (${port})` : ''}.</p>
      <div className="toolbar">
        <label>
          Saved Wi-Fi
          <select value={profile} onChange={(e) => setProfile(e.target.value)} disabled={busy}>
            <option value="">(none)</option>
            {profiles.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Or SSID
          <input value={ssid} onChange={(e) => setSsid(e.target.value)} disabled={busy} />
        </label>
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} disabled={busy} />
        </label>
        <label>
          Device id
          <input value={deviceId} onChange={(e) => setDeviceId(e.target.value)} disabled={busy} />
        </label>
      </div>
      <div className="toolbar">
        <button type="button" onClick={() => void readInfo()} disabled={busy || !port}>
          Read info
        </button>
        <button type="button" onClick={() => void scan()} disabled={busy || !port}>
          Scan
        </button>
        <button
          type="button"
          onClick={() => void provision()}
          disabled={busy || !port || (!profile && !ssid && !deviceId)}
        >
          Provision
        </button>
        {busy && <progress aria-label="Talking to the device" />}
      </div>
      {lines.map((line, i) => (
        <p key={i} className={line.kind} role={line.kind === 'error' ? 'alert' : 'status'}>
          {line.text}
        </p>
      ))}
    </details>
  );
}
