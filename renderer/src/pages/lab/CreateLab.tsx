import { useEffect, useState } from 'react';
import type { LabView } from '../../../../electron/contract/lab';
import { api } from '../../api/client';
import { usePickedProfile } from '../usePickedProfile';

const COMMON_FQBNS = ['arduino:avr:uno', 'arduino:avr:nano', 'esp32:esp32:esp32', 'esp8266:esp8266:nodemcuv2'];

/** A new lab: the class's name, the board type, the template (Wi-Fi and broker) and seat ids from a pattern. */
export function CreateLab({ onCreated, onError }: { onCreated(lab: LabView): void; onError(message: string): void }) {
  const [name, setName] = useState('');
  const [profiles, template, setTemplate] = usePickedProfile(onError);
  const [board, setBoard] = useState('');
  const [idPattern, setIdPattern] = useState('lab-{nn}');
  const [seats, setSeats] = useState(30);
  const [busy, setBusy] = useState(false);

  // The board follows the template's until changed by hand.
  const templateBoard = profiles.find((p) => p.id === template)?.board ?? '';
  useEffect(() => setBoard(templateBoard), [templateBoard]);

  const create = () => {
    setBusy(true);
    api()
      .call('lab.create', { name, board, template, idPattern, seats })
      .then(
        (lab) => {
          setName('');
          onCreated(lab);
        },
        (e: Error) => onError(e.message),
      )
      .finally(() => setBusy(false));
  };
  const fqbns = [...new Set([...profiles.map((p) => p.board), ...COMMON_FQBNS])];
  return (
    <form
      className="panel create-lab"
      aria-label="New lab"
      onSubmit={(e) => {
        e.preventDefault();
        create();
      }}
    >
      <h2>New lab</h2>
      <div className="toolbar">
        <label>
          Class name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Year 9 — room 3" disabled={busy} />
        </label>
        <label>
          Profile
          <select value={template} onChange={(e) => setTemplate(e.target.value)} disabled={busy}>
            {profiles.length === 0 && <option value="">none yet: make one on the Profiles page</option>}
            {profiles.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Board
          <input list="lab-fqbns" value={board} onChange={(e) => setBoard(e.target.value)} disabled={busy} />
          <datalist id="lab-fqbns">
            {fqbns.map((fqbn) => (
              <option key={fqbn} value={fqbn} />
            ))}
          </datalist>
        </label>
        <label>
          Id pattern
          <input value={idPattern} onChange={(e) => setIdPattern(e.target.value)} disabled={busy} />
        </label>
        <label>
          Seats
          <input
            type="number"
            min={1}
            max={200}
            value={seats}
            onChange={(e) => setSeats(Number(e.target.value))}
            disabled={busy}
          />
        </label>
        <button type="submit" disabled={busy || !name.trim() || !template}>
          Create lab
        </button>
      </div>
      <p className="hint">
        The template gives every seat its Wi-Fi and broker settings; each seat gets its own device id from the pattern (
        {'{nn}'} is the seat number: lab3-{'{nn}'} → lab3-01, lab3-02, …) or from a roster CSV imported later.
      </p>
    </form>
  );
}
