// The one parser of Makerdeck's telemetry format: InfluxDB line protocol, one point per line
// (measurement,tag=v field=1i,other=2.5 [timestamp]). Also reads the monitor's loose "name:value" /
// "name=value" pairs. Never throws on hostile input: it returns a reason instead. Names and tags
// are kept in Maps, never as keys of plain objects, so a field called "__proto__" or "constructor"
// is just a name.

export type FieldValue = number | boolean | string;

export interface Point {
  measurement: string;
  tags: Map<string, string>;
  fields: Map<string, FieldValue>;
  /** Fields sent as integers (`1i`, `1u`): InfluxDB keeps a field's first type and refuses the other. */
  integers?: Set<string>;
  /** Nanoseconds since the epoch as a decimal string, when the line had one. */
  timestamp?: string;
}

export type ParseResult = { ok: true; point: Point } | { ok: false; reason: string };

const MAX_LINE = 64 * 1024;
const MAX_FIELDS = 256;
/** InfluxDB and Telegraf queries, and Makerdeck's own requests, take names of at most 256 characters. */
export const MAX_NAME = 256;
// C0, DEL and C1 controls: a terminal would act on them (telemetry tail prints names as text).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A value the charts (float32) can still draw, with room for max − min. */
export const MAX_MAGNITUDE = 1e38;

/**
 * A telemetry line as a gateway forwards it: as it came when it has its own time, else with the time
 * it arrived (ms) as its timestamp, so it is stored when it was read, not when the broker passed it on.
 */
export function withArrivalTime(line: string, point: Point, arrivedMs: number): string {
  return point.timestamp ? line : `${line} ${arrivedMs}000000`;
}

export function parseLineProtocol(line: string): ParseResult {
  if (line.length > MAX_LINE) return { ok: false, reason: `longer than ${MAX_LINE} characters` };
  const text = line.replace(/\r?\n?$/, ''); // a CRLF line ending (Serial.println) is not data
  // Most lines have no escapes and no strings: split them directly (several times faster).
  if (!/[\\"]/.test(text)) return parsePlain(text);
  return parseEscaped(text);
}

/** The full scanner (escapes and strings); exported so tests can check the fast path agrees. */
export function parseEscaped(text: string): ParseResult {
  const reader = new Reader(text);
  const measurement = reader.until(', ', true);
  if (!measurement) return { ok: false, reason: 'no measurement' };
  const bad = badName('measurement', measurement);
  if (bad) return { ok: false, reason: bad };
  const tags = new Map<string, string>();
  while (reader.peek() === ',') {
    reader.skip();
    const key = reader.until('=, ', true);
    if (!key || reader.peek() !== '=') return { ok: false, reason: 'a tag without a value' };
    const badKey = badName('tag name', key);
    if (badKey) return { ok: false, reason: badKey };
    reader.skip();
    const value = reader.until(', ', true);
    if (!value) return { ok: false, reason: `tag ${shown(key)} has an empty value` };
    if (CONTROL.test(value)) return { ok: false, reason: `tag ${shown(key)} has a control character` };
    tags.set(key, value);
  }
  if (reader.peek() !== ' ') return { ok: false, reason: 'no fields' };
  reader.skip();
  const integers = new Set<string>();
  const fields = parseFields(reader, integers);
  if (typeof fields === 'string') return { ok: false, reason: fields };
  let timestamp: string | undefined;
  if (reader.peek() === ' ') {
    reader.skip();
    timestamp = reader.rest();
    if (!/^-?\d{1,19}$/.test(timestamp)) return { ok: false, reason: 'the timestamp is not an integer' };
  } else if (!reader.done()) {
    return { ok: false, reason: 'unexpected text after the fields' };
  }
  const point: Point = { measurement, tags, fields, timestamp };
  if (integers.size > 0) point.integers = integers;
  return { ok: true, point };
}

/** The same grammar for a line without backslashes or quotes, by splitting. */
function parsePlain(text: string): ParseResult {
  // Without quotes every character is in a name, a tag value, a number or the timestamp: one test.
  if (CONTROL.test(text)) return { ok: false, reason: 'a control character outside a string value' };
  const [head, body, timestamp, extra] = text.split(' ');
  if (extra !== undefined) return { ok: false, reason: 'unexpected text after the fields' };
  const [measurement, ...tagPairs] = head!.split(',');
  if (!measurement) return { ok: false, reason: 'no measurement' };
  if (measurement.length > MAX_NAME) return { ok: false, reason: tooLong('measurement') };
  const tags = new Map<string, string>();
  for (const pair of tagPairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'a tag without a value' };
    const key = pair.slice(0, eq);
    if (key.length > MAX_NAME) return { ok: false, reason: tooLong('tag name') };
    if (eq === pair.length - 1) return { ok: false, reason: `tag ${shown(key)} has an empty value` };
    tags.set(key, pair.slice(eq + 1));
  }
  if (body === undefined || body === '') return { ok: false, reason: 'no fields' };
  const fields = new Map<string, FieldValue>();
  let integers: Set<string> | undefined;
  const pairs = body.split(',');
  if (pairs.length > MAX_FIELDS) return { ok: false, reason: `more than ${MAX_FIELDS} fields` };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'a field without a value' };
    const key = pair.slice(0, eq);
    if (key.length > MAX_NAME) return { ok: false, reason: tooLong('field name') };
    const raw = pair.slice(eq + 1);
    const value = parseScalar(raw);
    if (value === undefined) return { ok: false, reason: `field ${shown(key)} has an invalid value` };
    fields.set(key, value);
    if (typeof value === 'number' && isIntegerText(raw)) (integers ??= new Set()).add(key);
    else integers?.delete(key); // a repeated field: the last value counts
  }
  if (timestamp !== undefined && !/^-?\d{1,19}$/.test(timestamp))
    return { ok: false, reason: 'the timestamp is not an integer' };
  const point: Point = { measurement, tags, fields, timestamp };
  if (integers) point.integers = integers;
  return { ok: true, point };
}

function parseFields(reader: Reader, integers: Set<string>): Map<string, FieldValue> | string {
  const fields = new Map<string, FieldValue>();
  let count = 0;
  do {
    if (count > 0) reader.skip(); // the comma
    const key = reader.until('=, ', true);
    if (!key || reader.peek() !== '=') return 'a field without a value';
    const bad = badName('field name', key);
    if (bad) return bad;
    reader.skip();
    const value = reader.peek() === '"' ? reader.quoted() : reader.until(', ', false);
    if (value === undefined) return `field ${shown(key)} has an unterminated string`;
    const parsed = typeof value === 'object' ? value.text : parseScalar(value);
    if (parsed === undefined) return `field ${shown(key)} has an invalid value`;
    fields.set(key, parsed);
    if (typeof value === 'string' && typeof parsed === 'number' && isIntegerText(value)) integers.add(key);
    else integers.delete(key);
    if (++count > MAX_FIELDS) return `more than ${MAX_FIELDS} fields`;
  } while (reader.peek() === ',');
  return fields;
}

/** Why a measurement, tag or field name cannot be kept, or undefined when it can. */
function badName(kind: string, name: string): string | undefined {
  if (name.length > MAX_NAME) return tooLong(kind);
  if (CONTROL.test(name)) return `a ${kind} with a control character`;
  return undefined;
}

function tooLong(kind: string): string {
  return `a ${kind} longer than ${MAX_NAME} characters (InfluxDB queries and Makerdeck take at most ${MAX_NAME})`;
}

/** A name as quoted in a reason: short (names are checked before they reach a reason). */
function shown(name: string): string {
  return name.length > 40 ? `${name.slice(0, 40)}…` : name;
}

/** `12i` or `12u`: an integer field (a number without the suffix, even `12`, is a float). */
function isIntegerText(raw: string): boolean {
  const last = raw.charCodeAt(raw.length - 1);
  return last === 105 || last === 117; // 'i', 'u'
}

function parseScalar(raw: string): FieldValue | undefined {
  if (/^-?\d+i$/.test(raw) || /^\d+u$/.test(raw)) return safeNumber(raw.slice(0, -1));
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return safeNumber(raw);
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return true;
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return false;
  return undefined;
}

/** Finite and within ±MAX_MAGNITUDE: beyond it a float32 chart buffer turns the value into Infinity. */
function safeNumber(raw: string): number | undefined {
  const value = Number(raw);
  return Math.abs(value) <= MAX_MAGNITUDE ? value : undefined;
}

/** Scans one line, honouring backslash escapes in names and quoted strings. */
class Reader {
  private at = 0;
  constructor(private readonly text: string) {}

  peek(): string | undefined {
    return this.text[this.at];
  }
  skip(): void {
    this.at++;
  }
  done(): boolean {
    return this.at >= this.text.length;
  }
  rest(): string {
    const rest = this.text.slice(this.at);
    this.at = this.text.length;
    return rest;
  }

  /** Reads up to (not including) an unescaped stop character; `unescape` drops the backslashes. */
  until(stops: string, unescape: boolean): string {
    let out = '';
    while (this.at < this.text.length) {
      const char = this.text[this.at]!;
      if (
        char === '\\' &&
        this.at + 1 < this.text.length &&
        (stops.includes(this.text[this.at + 1]!) || this.text[this.at + 1] === '\\' || this.text[this.at + 1] === '=')
      ) {
        out += unescape ? this.text[this.at + 1] : char + this.text[this.at + 1];
        this.at += 2;
        continue;
      }
      if (stops.includes(char)) break;
      out += char;
      this.at++;
    }
    return out;
  }

  /** A double-quoted string field value with \" and \\ escapes. */
  quoted(): { text: string } | undefined {
    let out = '';
    this.at++; // opening quote
    while (this.at < this.text.length) {
      const char = this.text[this.at]!;
      if (char === '\\' && (this.text[this.at + 1] === '"' || this.text[this.at + 1] === '\\')) {
        out += this.text[this.at + 1];
        this.at += 2;
        continue;
      }
      this.at++;
      if (char === '"') return { text: out };
      out += char;
    }
    return undefined;
  }
}

const PAIR = /([A-Za-z_][\w.-]{0,63})\s*[:=]\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/g;

/**
 * Numbers to plot from one serial line: the numeric fields of a telemetry line, or loose
 * "name:value" / "name=value" pairs (Arduino plotter style). Undefined when the line has none.
 */
export function plotValues(line: string): Record<string, number> | undefined {
  if (line.startsWith('telemetry,')) {
    const parsed = parseLineProtocol(line);
    if (!parsed.ok) return undefined;
    const numbers = [...parsed.point.fields].filter((entry): entry is [string, number] => typeof entry[1] === 'number');
    return numbers.length ? Object.fromEntries(numbers) : undefined;
  }
  if (line.length > 4096) return undefined;
  const values = new Map<string, number>();
  for (const [, name, raw] of line.matchAll(PAIR)) {
    const value = Number(raw);
    if (Math.abs(value) <= MAX_MAGNITUDE) values.set(name!, value);
  }
  // fromEntries defines own properties: a pair named "__proto__" stays a plain entry.
  return values.size ? Object.fromEntries(values) : undefined;
}
