// A class roster from a spreadsheet: CSV with a header naming the seat, student and device id columns
// (any order, any case; Excel's semicolons and BOM too). Every problem is one line naming the row.
import { DEVICE_ID_PATTERN, MAX_SEATS, MakerdeckError } from '../../contract';

export interface RosterRow {
  seat: string;
  student?: string;
  deviceId: string;
}

const COLUMNS = {
  seat: ['seat', 'desk', 'place'],
  student: ['student', 'name', 'student name'],
  deviceId: ['device id', 'device_id', 'deviceid', 'device', 'id'],
} as const;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Parses and checks a roster; throws one BAD_INPUT line with the row and the fix. */
export function parseRosterCsv(text: string): RosterRow[] {
  if (CONTROL.test(text)) throw bad('the roster holds control characters: save it as plain CSV text');
  const records = splitCsv(text.replace(/^\uFEFF/, ''));
  if (records.length === 0) throw bad('the roster is empty: a header (seat, student, device id) and a row per seat');
  const header = records[0]!.map((cell) => cell.trim().toLowerCase());
  const at = (names: readonly string[]) => header.findIndex((cell) => names.includes(cell));
  const columns = { seat: at(COLUMNS.seat), student: at(COLUMNS.student), deviceId: at(COLUMNS.deviceId) };
  if (columns.deviceId < 0)
    throw bad(
      `the roster's header has no device id column (found: ${oneLine(header.join(', '))}): name one "device id"`,
    );
  const rows = records.slice(1).filter((cells) => cells.some((cell) => cell.trim() !== ''));
  if (rows.length === 0) throw bad('the roster has a header but no seats');
  if (rows.length > MAX_SEATS) throw bad(`the roster has ${rows.length} seats; a lab takes at most ${MAX_SEATS}`);
  return checkUnique(rows.map((cells, index) => rowOf(cells, columns, index + 2)));
}

function rowOf(cells: string[], columns: Record<keyof RosterRow, number>, line: number): RosterRow {
  const cell = (index: number) => (index >= 0 ? (cells[index] ?? '').trim() : '');
  const deviceId = cell(columns.deviceId);
  if (!DEVICE_ID_PATTERN.test(deviceId))
    throw bad(`row ${line}: ${shown(deviceId)} is not a device id: use letters, digits, _ and - (up to 64)`);
  const seat = cell(columns.seat) || String(line - 1);
  const student = cell(columns.student);
  if (seat.length > 64 || student.length > 128) throw bad(`row ${line}: a seat or student name is too long`);
  return { seat, deviceId, ...(student && { student }) };
}

function checkUnique(rows: RosterRow[]): RosterRow[] {
  const seen = new Map<string, number>();
  rows.forEach((row, index) => {
    const key = row.deviceId.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined)
      throw bad(`rows ${first + 2} and ${index + 2} both use device id ${row.deviceId}: every board needs its own`);
    seen.set(key, index);
  });
  return rows;
}

/** RFC 4180 records: quoted cells may hold the delimiter, quotes ("") and line breaks. */
function splitCsv(text: string): string[][] {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
  const records: string[][] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  const endRecord = () => {
    records.push([...cells, cell]);
    cells = [];
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted) {
      if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else cell += c;
  }
  if (quoted) throw bad('the roster has a quote (") that is never closed');
  if (cell !== '' || cells.length > 0) endRecord();
  return records;
}

/** A cell quoted for a message: line breaks and tabs shown as escapes, so the message stays one line. */
function shown(cell: string): string {
  return oneLine(JSON.stringify(cell.slice(0, 70)));
}

function oneLine(text: string): string {
  return text
    .replace(/[\r\n\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .slice(0, 200);
}

function bad(message: string): MakerdeckError {
  return new MakerdeckError('BAD_INPUT', `Roster: ${message}`);
}
