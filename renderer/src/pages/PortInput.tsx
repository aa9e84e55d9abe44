import type { SerialPortView } from '../../../electron/contract/firmware';

/** Pick a discovered port, or type any path (a Bluetooth rfcomm port, a pty, …). */
export function PortInput(props: {
  ports: SerialPortView[];
  value: string;
  onChange(value: string): void;
  disabled?: boolean;
}) {
  return (
    <label>
      Port
      <input
        list="serial-ports"
        aria-label="Serial port"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        disabled={props.disabled}
        placeholder="/dev/ttyUSB0"
      />
      <datalist id="serial-ports">
        {props.ports.map((p) => (
          <option key={p.path} value={p.path}>
            {p.board ? p.board.label : (p.manufacturer ?? 'serial port')}
          </option>
        ))}
      </datalist>
    </label>
  );
}
