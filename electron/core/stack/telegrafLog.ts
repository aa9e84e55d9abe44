// What Telegraf's log says about points lost between the broker and InfluxDB. Telegraf 1.34 logs
// one line per failed write and per unparsable message, and nothing per successful write, so its
// log is the one place a loss shows (its internal `metrics_dropped` counter stays 0 when InfluxDB
// refuses points: the output drops them and reports the write as done). Lines look like
//   2026-12-05T11:40:00Z E! [outputs.influxdb] E! [outputs.influxdb] Failed to write metric (will be
//   dropped: 400 Bad Request): partial write: field type conflict: input field "x" on measurement
//   "telemetry" is type float, already exists as type integer dropped=1
import type { FieldTypeConflict, InfluxFieldType, TelegrafLoss } from '../../contract';

export interface TelegrafLogEvent {
  /** Telegraf's own timestamp (RFC 3339, seconds), ms. */
  at: number;
  /** `dropped`: points are gone; `failing`: the write failed and Telegraf keeps them to retry. */
  kind: 'dropped' | 'failing';
  reason: string;
  conflict?: Omit<FieldTypeConflict, 'lastAt'>;
}

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ([EW])! \[([\w.]+)\] (.*)$/;
// InfluxDB quotes the names without escaping them: match lazily up to the words that follow.
const CONFLICT =
  /field type conflict: input field "(.*?)" on measurement "(.*?)" is type (\w+), already exists as type (\w+)/;
const TYPES = new Set<string>(['float', 'integer', 'unsigned', 'string', 'boolean']);
const MAX_REASON = 300;

/** Parses one line of Telegraf's log; undefined for a line that says nothing about lost points. */
export function parseTelegrafLine(line: string): TelegrafLogEvent | undefined {
  const match = LINE.exec(line.trimEnd());
  if (!match) return undefined;
  const [, time, level, plugin, text] = match as unknown as [string, string, string, string, string];
  const at = Date.parse(time);
  if (plugin === 'outputs.influxdb') return outputEvent(at, level, text);
  if (plugin === 'inputs.mqtt_consumer' && level === 'E') {
    const parse = /^Error in plugin: (metric parse error: .*)$/.exec(text);
    if (parse) return { at, kind: 'dropped', reason: `a message Telegraf cannot parse (${short(parse[1]!)})` };
  }
  return undefined;
}

function outputEvent(at: number, level: string, text: string): TelegrafLogEvent | undefined {
  const body = text.replace(/^E! \[outputs\.influxdb\] /, ''); // Telegraf repeats its prefix in one message
  const overflow = /^Metric buffer overflow; (\d+) metrics have been dropped/.exec(body);
  if (overflow) return { at, kind: 'dropped', reason: `Telegraf's buffer overflowed: ${overflow[1]} points dropped` };
  if (level !== 'E') return undefined;
  const conflict = CONFLICT.exec(body);
  if (conflict) {
    const [, field, measurement, got, stored] = conflict as unknown as [string, string, string, string, string];
    if (TYPES.has(got) && TYPES.has(stored)) {
      const types = { stored: stored as InfluxFieldType, got: got as InfluxFieldType };
      const named = { measurement: short(measurement), field: short(field), ...types };
      return {
        at,
        kind: 'dropped',
        reason: `field type conflict: ${named.field} is ${stored}, got ${got} (${conflictFix(named.field, stored)})`,
        conflict: named,
      };
    }
  }
  // A 4xx answer, a partial write or a line InfluxDB cannot parse: Telegraf drops the points.
  const refused = /^Failed to write metric \(will be dropped: ([^)]*)\): (.*)$/.exec(body);
  if (refused) return { at, kind: 'dropped', reason: `InfluxDB refused them (${refused[1]}: ${short(refused[2]!)})` };
  const discarded = /^When writing to \[[^\]]*\]: received error (.*); discarding points$/.exec(body);
  if (discarded) return { at, kind: 'dropped', reason: `InfluxDB refused them (${short(discarded[1]!)})` };
  // Anything else it logs about a write (unreachable, 5xx, timeouts): the points wait in its buffer.
  const failed = /^When writing to \[[^\]]*\]: (.*)$/.exec(body);
  if (failed) return { at, kind: 'failing', reason: short(failed[1]!) };
  return undefined;
}

/** What stops a field type conflict: InfluxDB keeps the type it stored first (per shard, a week by default). */
export function conflictFix(field: string, stored: string): string {
  return `fix: always send ${field} as ${stored}, or send it under a new field name`;
}

function short(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return clean.length > MAX_REASON ? `${clean.slice(0, MAX_REASON)}…` : clean;
}

/** How long a loss is reported after Telegraf last logged one: a device reporting every few minutes stays flagged. */
export const LOSS_WINDOW_MS = 5 * 60_000;

/**
 * Telegraf's recent losses, from its log lines: the newest decides the state ("dropping points" or
 * "not writing"); each field type conflict of the window is listed, so its series can be flagged.
 */
export class TelegrafLossTracker {
  private events: TelegrafLogEvent[] = [];

  /** Feeds log lines (in order); returns true when one of them told of a loss. */
  add(lines: string[]): boolean {
    let any = false;
    for (const line of lines) {
      const event = parseTelegrafLine(line);
      if (!event) continue;
      this.events.push(event);
      any = true;
    }
    if (this.events.length > 10_000) this.events = this.events.slice(-5_000);
    return any;
  }

  /** The loss in the window ending at `now`, or undefined when Telegraf logged none. */
  view(now = Date.now()): TelegrafLoss | undefined {
    this.events = this.events.filter((event) => event.at > now - LOSS_WINDOW_MS);
    const newest = this.events.at(-1);
    if (!newest) return undefined;
    const conflicts = new Map<string, FieldTypeConflict>();
    for (const { conflict, at } of this.events) {
      if (!conflict) continue;
      const key = JSON.stringify([conflict.measurement, conflict.field, conflict.got]);
      conflicts.set(key, { ...conflict, lastAt: at });
    }
    const message =
      newest.kind === 'dropped'
        ? `dropping points: ${newest.reason}`
        : `not writing to InfluxDB: ${newest.reason} (points wait in Telegraf's buffer)`;
    const state = newest.kind === 'dropped' ? 'dropping' : 'failing';
    return { state, message, lastAt: newest.at, count: this.events.length, conflicts: [...conflicts.values()] };
  }
}
