import type { LabSummary } from '../../../../electron/contract/lab';

/** The labs with how many seats are free, flashed, online, silent or failed; a click opens one. */
export function LabList({
  labs,
  selected,
  onSelect,
}: {
  labs: LabSummary[];
  selected?: string;
  onSelect(id: string): void;
}) {
  if (labs.length === 0) return <p className="hint">No labs yet: create one below.</p>;
  return (
    <table className="services labs" aria-label="Labs">
      <thead>
        <tr>
          <th>Lab</th>
          <th>Type</th>
          <th>Template</th>
          <th>Seats</th>
          <th>Station</th>
        </tr>
      </thead>
      <tbody>
        {labs.map((lab) => {
          const { counts } = lab;
          const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
          return (
            <tr key={lab.id} data-lab={lab.name} className={lab.id === selected ? 'selected' : undefined}>
              <td>
                <button type="button" className="link" onClick={() => onSelect(lab.id)}>
                  {lab.name}
                </button>
              </td>
              <td>{lab.board}</td>
              <td>{lab.template}</td>
              <td data-testid={`seat-counts-${lab.name}`}>
                {total} seats: {counts.online} online, {counts.flashed} flashed, {counts.silent} silent, {counts.failed}{' '}
                failed, {counts.flashing} flashing, {counts.free} free
              </td>
              <td>{lab.stationRunning ? '● running' : '○ stopped'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
