import { useEffect, useRef } from 'react';
import type { SerialPortView } from '../../../electron/contract/firmware';
import { useSerialPorts } from './useSerialPorts';

/** How a detected port reads in the list: its path and the board or adapter guessed from USB ids. */
export function portLabel(port: SerialPortView): string {
  const guess = port.board?.label ?? port.manufacturer ?? 'serial port';
  return `${port.path} — ${guess}${port.canOpen === false ? ' (no permission)' : ''}`;
}

/**
 * The detected ports, updated on plug and unplug, with the board guessed; or type any path (a
 * Bluetooth rfcomm port, a pty, …). A port plugged in while none is chosen is chosen, unless the
 * user is in the path field: what they type then must not land after a path they did not pick.
 */
export function PortInput(props: { value: string; onChange(value: string): void; disabled?: boolean }) {
  const { ports = [], error } = useSerialPorts();
  const known = useRef<Set<string>>(undefined);
  const typed = useRef<HTMLInputElement>(null);
  const { value, onChange } = props;
  useEffect(() => {
    const fresh = ports.filter((p) => !known.current?.has(p.path));
    known.current = new Set(ports.map((p) => p.path));
    const typing = typed.current !== null && document.activeElement === typed.current;
    if (!value && fresh[0] && !typing) onChange(fresh[0].path);
  }, [ports, value, onChange]);
  const detected = ports.some((p) => p.path === value);
  return (
    <>
      <label>
        Detected ports
        <select
          aria-label="Detected ports"
          data-testid="detected-ports"
          value={detected ? value : ''}
          onChange={(e) => e.target.value && onChange(e.target.value)}
          disabled={props.disabled}
        >
          <option value="">{ports.length ? 'Pick a port…' : 'No ports: plug the board in with a data cable'}</option>
          {ports.map((p) => (
            <option key={p.path} value={p.path}>
              {portLabel(p)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Port
        <input
          ref={typed}
          aria-label="Serial port"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          disabled={props.disabled}
          placeholder="/dev/ttyUSB0"
          title={error}
        />
      </label>
    </>
  );
}
