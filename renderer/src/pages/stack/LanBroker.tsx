import { useEffect, useState } from 'react';
import { LAN_BROKER_NOTE, type StackLanView } from '../../../../electron/contract/stack';
import { api } from '../../api/client';

interface Props {
  /** Another stack action runs: the choice waits. */
  disabled: boolean;
  onChanged(message: string): void;
  onError(message: string): void;
}

/** The user's choice to open the broker's MQTT port to the LAN, what that exposes, and the address boards use. */
export function LanBroker({ disabled, onChanged, onError }: Props) {
  const [lan, setLan] = useState<StackLanView>();
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    api()
      .call('stack.lan', {})
      .then(setLan, (e: Error) => onError(e.message));
  }, [onError]);

  const choose = async (enabled: boolean) => {
    setSaving(true);
    try {
      const next = await api().call('stack.setLan', { enabled });
      setLan(next);
      const when = next.applied === 'now' ? 'The broker was re-created with it.' : 'It applies at the next Start.';
      onChanged(`${enabled ? 'The broker is open to the LAN' : 'The broker listens on 127.0.0.1 only'}. ${when}`);
    } catch (e) {
      onError((e as Error).message);
    } finally {
      setSaving(false);
    }
  };

  if (!lan) return null;
  return (
    <fieldset className="lan-broker">
      <legend>Boards on Wi-Fi</legend>
      <label className="inline">
        <input
          type="checkbox"
          checked={lan.enabled}
          disabled={disabled || saving}
          onChange={(e) => void choose(e.target.checked)}
        />{' '}
        Open the broker to the LAN
      </label>
      <p className="muted">{LAN_BROKER_NOTE}</p>
      {lan.enabled && lan.addresses.length > 0 && (
        <p>
          Boards use MQTT host <strong>{lan.addresses[0]}</strong>, port {lan.port}
          {lan.addresses.length > 1 && ` (or ${lan.addresses.slice(1).join(', ')}, whichever network they are on)`}.
        </p>
      )}
      {lan.enabled && lan.addresses.length === 0 && (
        <p className="error">This computer has no LAN address right now: join the boards' network first.</p>
      )}
    </fieldset>
  );
}
