// The one parser of Makerdeck's telemetry format: InfluxDB line protocol, one point per line
// (measurement,tag=v field=1i,other=2.5 [timestamp]). Also reads the monitor's loose "name:value" /
// "name=value" pairs. Never throws on hostile input: it returns a reason instead.

export type FieldValue = number | boolean | string;

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Nanoseconds since the epoch as a decimal string, when the line had one. */
  timestamp?: string;
}

export type ParseResult = { ok: true; point: Point } | { ok: false; reason: string };

const MAX_LINE = 64 * 1024;
const MAX_FIELDS = 256;

export function parseLineProtocol(line: string): ParseResult {
  if (line.length > MAX_LINE) return { ok: false, reason: `longer than ${MAX_LINE} characters` };
  const text = line.replace(/\r?\n$/, '');
  // Most lines have no escapes and no strings: split them directly (several times faster).
  if (!/[\\"]/.test(text)) return parsePlain(text);
  return parseEscaped(text);
}

/** The full scanner (escapes and strings); exported so tests can check the fast path agrees. */
export function parseEscaped(text: string): ParseResult {
  const reader = new Reader(text);
  const measurement = reader.until(', ', true);
  if (!measurement) return { ok: false, reason: 'no measurement' };
  const tags: Record<string, string> = {};
  while (reader.peek() === ',') {
    reader.skip();
    const key = reader.until('=, ', true);
    if (!key || reader.peek() !== '=') return { ok: false, reason: 'a tag without a value' };
    reader.skip();
    const value = reader.until(', ', true);
    if (!value) return { ok: false, reason: `tag ${key} has an empty value` };
    tags[key] = value;
  }
  if (reader.peek() !== ' ') return { ok: false, reason: 'no fields' };
  reader.skip();
  const fields = parseFields(reader);
  if (typeof fields === 'string') return { ok: false, reason: fields };
  let timestamp: string | undefined;
  if (reader.peek() === ' ') {
    reader.skip();
    timestamp = reader.rest();
    if (!/^-?\d{1,19}$/.test(timestamp)) return { ok: false, reason: 'the timestamp is not an integer' };
  } else if (!reader.done()) {
    return { ok: false, reason: 'unexpected text after the fields' };
  }
  return { ok: true, point: { measurement, tags, fields, timestamp } };
}

/** The same grammar for a line without backslashes or quotes, by splitting. */
function parsePlain(text: string): ParseResult {
  const [head, body, timestamp, extra] = text.split(' ');
  if (extra !== undefined) return { ok: false, reason: 'unexpected text after the fields' };
  const [measurement, ...tagPairs] = head!.split(',');
  if (!measurement) return { ok: false, reason: 'no measurement' };
  const tags: Record<string, string> = {};
  for (const pair of tagPairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'a tag without a value' };
    if (eq === pair.length - 1) return { ok: false, reason: `tag ${pair.slice(0, eq)} has an empty value` };
    tags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (body === undefined || body === '') return { ok: false, reason: 'no fields' };
  const fields: Record<string, FieldValue> = {};
  const pairs = body.split(',');
  if (pairs.length > MAX_FIELDS) return { ok: false, reason: `more than ${MAX_FIELDS} fields` };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'a field without a value' };
    const key = pair.slice(0, eq);
    const value = parseScalar(pair.slice(eq + 1));
    if (value === undefined) return { ok: false, reason: `field ${key} has an invalid value` };
    fields[key] = value;
  }
  if (timestamp !== undefined && !/^-?\d{1,19}$/.test(timestamp)) return { ok: false, reason: 'the timestamp is not an integer' };
  return { ok: true, point: { measurement, tags, fields, timestamp } };
}

function parseFields(reader: Reader): Record<string, FieldValue> | string {
  const fields: Record<string, FieldValue> = {};
  let count = 0;
  do {
    if (count > 0) reader.skip(); // the comma
    const key = reader.until('=, ', true);
    if (!key || reader.peek() !== '=') return 'a field without a value';
    reader.skip();
    const value = reader.peek() === '"' ? reader.quoted() : reader.until(', ', false);
    if (value === undefined) return `field ${key} has an unterminated string`;
    const parsed = typeof value === 'object' ? value.text : parseScalar(value);
    if (parsed === undefined) return `field ${key} has an invalid value`;
    fields[key] = parsed;
    if (++count > MAX_FIELDS) return `more than ${MAX_FIELDS} fields`;
  } while (reader.peek() === ',');
  return fields;
}

function parseScalar(raw: string): FieldValue | undefined {
  if (/^-?\d+i$/.test(raw) || /^\d+u$/.test(raw)) return safeNumber(raw.slice(0, -1));
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return safeNumber(raw);
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return true;
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return false;
  return undefined;
}

function safeNumber(raw: string): number | undefined {
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
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
      if (char === '\\' && this.at + 1 < this.text.length && (stops.includes(this.text[this.at + 1]!) || this.text[this.at + 1] === '\\' || this.text[this.at + 1] === '=')) {
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
    const numbers = Object.entries(parsed.point.fields).filter((entry): entry is [string, number] => typeof entry[1] === 'number');
    return numbers.length ? Object.fromEntries(numbers) : undefined;
  }
  if (line.length > 4096) return undefined;
  const values: Record<string, number> = {};
  let found = false;
  for (const [, name, raw] of line.matchAll(PAIR)) {
    const value = Number(raw);
    if (Number.isFinite(value)) {
      values[name!] = value;
      found = true;
    }
  }
  return found ? values : undefined;
}
