import type { LabView } from '../../../../electron/contract/lab';
import { api } from '../../api/client';
import { downloadText } from '../../download';

/** Import a roster CSV (replacing the seats) and export the station log as CSV or JSON. */
export function LabTools({
  lab,
  onLab,
  onError,
  onNotice,
}: {
  lab: LabView;
  onLab(lab: LabView): void;
  onError(message: string): void;
  onNotice(message: string): void;
}) {
  const importRoster = async (file: File) => {
    try {
      const next = await api().call('lab.importRoster', { lab: lab.id, csv: await file.text() });
      onLab(next);
      onNotice(`Imported ${file.name}: ${next.seats.length} seats.`);
    } catch (e) {
      onError((e as Error).message);
    }
  };
  const exportLog = async (format: 'csv' | 'json') => {
    try {
      const exported = await api().call('lab.exportLog', { lab: lab.id, format });
      const type = format === 'csv' ? 'text/csv' : 'application/json';
      downloadText(`${fileSafe(lab.name)}-log.${format}`, exported.content, type);
      onNotice(`Exported ${exported.entries} log entries as ${format.toUpperCase()}.`);
    } catch (e) {
      onError((e as Error).message);
    }
  };
  return (
    <div className="toolbar lab-tools">
      <label>
        Roster CSV (seat, student, device id)
        <input
          type="file"
          accept=".csv,text/csv"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = ''; // the same file again is a new import
            if (file) void importRoster(file);
          }}
        />
      </label>
      <button type="button" className="secondary" onClick={() => void exportLog('csv')}>
        Export log (CSV)
      </button>
      <button type="button" className="secondary" onClick={() => void exportLog('json')}>
        Export log (JSON)
      </button>
    </div>
  );
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'lab';
}
