// The station log as a file a teacher keeps: CSV for a spreadsheet, JSON for scripts.
import type { LabLogEntry, LabLogExport } from '../../contract';

const CSV_COLUMNS: Array<keyof LabLogEntry> = [
  'time',
  'port',
  'usbSerial',
  'identity',
  'deviceId',
  'student',
  'buildHash',
  'result',
  'reason',
  'seconds',
];

/** The log in the asked format; CSV cells that a spreadsheet would run as a formula are quoted as text. */
export function exportLabLog(lab: string, entries: LabLogEntry[], format: 'csv' | 'json'): LabLogExport {
  const content =
    format === 'json'
      ? `${JSON.stringify(entries, null, 2)}\n`
      : [CSV_COLUMNS.join(','), ...entries.map((entry) => CSV_COLUMNS.map((c) => csvCell(entry[c])).join(','))]
          .map((line) => `${line}\r\n`)
          .join('');
  return { lab, format, content, entries: entries.length };
}

function csvCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`; // CSV injection
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
