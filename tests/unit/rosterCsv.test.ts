// Class rosters from spreadsheets: quoting, Excel's semicolons and BOM, CRLF, and every bad roster
// (duplicates, bad ids, no device id column, hostile bytes) refused in one BAD_INPUT line.
import { describe, expect, it } from 'vitest';
import { DEVICE_ID_PATTERN, MAX_SEATS, MakerdeckError } from '../../electron/contract';
import { parseRosterCsv } from '../../electron/core/lab/rosterCsv';
import { seededRandom } from '../support/fuzz';

/** The one line a bad roster gets (the parser must throw it). */
function refusal(text: string): string {
  try {
    parseRosterCsv(text);
  } catch (error) {
    expect(error).toBeInstanceOf(MakerdeckError);
    expect((error as MakerdeckError).code).toBe('BAD_INPUT');
    return (error as MakerdeckError).message;
  }
  throw new Error(`the roster was accepted: ${JSON.stringify(text.slice(0, 80))}`);
}

describe('parseRosterCsv', () => {
  it('reads columns by name in any order and case, with quoted cells holding commas, quotes and line breaks', () => {
    const text = [
      'Device ID,Student,Seat',
      'lab3-01,"Doe, Jane",1',
      'lab3-02,"Anna ""Nan"" Berg",2',
      'lab3-03,"Line\none",3',
      '  lab3-04  ,,4',
    ].join('\n');
    expect(parseRosterCsv(text)).toEqual([
      { seat: '1', student: 'Doe, Jane', deviceId: 'lab3-01' },
      { seat: '2', student: 'Anna "Nan" Berg', deviceId: 'lab3-02' },
      { seat: '3', student: 'Line\none', deviceId: 'lab3-03' },
      { seat: '4', deviceId: 'lab3-04' },
    ]);
  });

  it("reads Excel's export: a BOM, semicolons, CRLF, a trailing blank line", () => {
    const text = '\uFEFFSeat;Student;Device ID\r\n1;"Müller; Jörg";dev-1\r\n2;Zoë;dev-2\r\n;;\r\n';
    expect(parseRosterCsv(text)).toEqual([
      { seat: '1', student: 'Müller; Jörg', deviceId: 'dev-1' },
      { seat: '2', student: 'Zoë', deviceId: 'dev-2' },
    ]);
  });

  it('numbers the seats by row when there is no seat column', () => {
    expect(parseRosterCsv('device_id\na\nb\n')).toEqual([
      { seat: '1', deviceId: 'a' },
      { seat: '2', deviceId: 'b' },
    ]);
  });

  it('refuses duplicates (any case), bad ids, a header without a device id column, and too many seats', () => {
    expect(refusal('seat,device id\n1,lab-1\n2,lab-2\n3,LAB-1\n')).toBe(
      'Roster: rows 2 and 4 both use device id LAB-1: every board needs its own',
    );
    expect(refusal('seat,device id\n1,lab 1\n')).toBe(
      'Roster: row 2: "lab 1" is not a device id: use letters, digits, _ and - (up to 64)',
    );
    expect(refusal('seat,device id\n1,\n')).toMatch(/^Roster: row 2: "" is not a device id/);
    expect(refusal('seat,student,board\n1,Ann,uno\n')).toBe(
      `Roster: the roster's header has no device id column (found: seat, student, board): name one "device id"`,
    );
    expect(refusal('')).toMatch(/^Roster: the roster is empty/);
    expect(refusal('device id\n\n')).toBe('Roster: the roster has a header but no seats');
    expect(refusal('device id\n"lab-1\n')).toBe('Roster: the roster has a quote (") that is never closed');
    const many = ['device id', ...Array.from({ length: MAX_SEATS + 1 }, (_, i) => `d${i}`)].join('\n');
    expect(refusal(many)).toBe(`Roster: the roster has ${MAX_SEATS + 1} seats; a lab takes at most ${MAX_SEATS}`);
    expect(refusal('device id\nok\u0000\n')).toMatch(/control characters/);
  });

  it('never lets a cell break the one-line message', () => {
    const message = refusal('device id\n"a\r\nb"\n');
    expect(message).not.toMatch(/[\r\n]/);
    expect(refusal('"seat\nx",student\n1,a\n')).not.toMatch(/[\r\n]/);
  });

  it('answers 200 fuzzed hostile rosters with rows that hold or one BAD_INPUT line, never anything else', () => {
    const random = seededRandom(14);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const pieces = [
      'a',
      'lab-1',
      'LAB-1',
      'x'.repeat(70),
      '"',
      '""',
      ',',
      ';',
      '\r',
      '\n',
      '\r\n',
      '\t',
      ' ',
      '\uFEFF',
      'ö',
      '🙂',
      '\u0000',
      '\u001b[2J',
      '=cmd|calc',
      'device id',
      'seat',
      'student',
      '\\',
      "'",
      '\u2028',
    ] as const;
    const cell = () => Array.from({ length: Math.floor(random() * 4) }, () => pick(pieces)).join('');
    const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
    /** A roster a spreadsheet could write (hostile student names, quoted), or chaos. */
    const roster = (i: number): string => {
      const delimiter = pick([',', ';']);
      const newline = pick(['\n', '\r\n', '\r']);
      if (i % 3 === 2) {
        const rows = Array.from({ length: Math.floor(random() * (i % 20 === 2 ? 260 : 12)) }, () =>
          Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
            random() < 0.5 ? `d${i}-${random()}`.slice(0, 9) : cell(),
          ),
        );
        const header = pick(['seat,student,device id', 'Device ID;Student', 'id', cell(), '\uFEFFdevice,name']);
        return [header, ...rows.map((r) => r.join(delimiter))].join(newline);
      }
      const count = 1 + Math.floor(random() * (i % 30 === 0 ? 230 : 30));
      const rows = Array.from({ length: count }, (_, seat) =>
        [String(seat + 1), quote(cell()), `s${i}-${seat}`].join(delimiter),
      );
      const text = ['\uFEFF', ''][i % 2] + [['seat', 'student', 'device id'].join(delimiter), ...rows].join(newline);
      if (i % 3 === 0) return text;
      const at = Math.floor(random() * text.length); // one mutation: a piece dropped in anywhere
      return text.slice(0, at) + pick(pieces) + text.slice(at);
    };
    const outcomes = { accepted: 0, refused: 0 };
    for (let i = 0; i < 200; i++) {
      const text = roster(i);
      try {
        const parsed = parseRosterCsv(text);
        outcomes.accepted++;
        expect(parsed.length).toBeGreaterThan(0);
        expect(parsed.length).toBeLessThanOrEqual(MAX_SEATS);
        for (const row of parsed) expect(row.deviceId).toMatch(DEVICE_ID_PATTERN);
        expect(new Set(parsed.map((r) => r.deviceId.toLowerCase())).size).toBe(parsed.length);
      } catch (error) {
        outcomes.refused++;
        expect(error, JSON.stringify(text.slice(0, 120))).toBeInstanceOf(MakerdeckError);
        const { code, message } = error as MakerdeckError;
        expect(code).toBe('BAD_INPUT');
        expect(message, JSON.stringify(text.slice(0, 120))).not.toMatch(/[\r\n\u2028\u2029]/);
        expect(message.length).toBeLessThanOrEqual(400);
      }
    }
    // Both ways were taken: the fuzz reached the parser's happy path as well as its refusals.
    expect(outcomes.accepted).toBeGreaterThan(5);
    expect(outcomes.refused).toBeGreaterThan(5);
  });
});
