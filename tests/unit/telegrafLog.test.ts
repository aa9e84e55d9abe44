import { describe, expect, it } from 'vitest';
import { LOSS_WINDOW_MS, TelegrafLossTracker, parseTelegrafLine } from '../../electron/core/stack/telegrafLog';

const T = '2026-12-05T11:40:00Z';
const AT = Date.parse(T);
// The line Telegraf 1.34.4 logs when InfluxDB 1.8 refuses a point (seen in stackHistoryLoss.test.ts):
// its output repeats its own prefix inside the message.
const CONFLICT =
  `${T} E! [outputs.influxdb] E! [outputs.influxdb] Failed to write metric (will be dropped: 400 Bad Request): ` +
  'partial write: field type conflict: input field "x" on measurement "telemetry" is type float, already exists as type integer dropped=1';

describe("Telegraf's log lines", () => {
  it('reads a field type conflict: the series, both types and the reason', () => {
    expect(parseTelegrafLine(CONFLICT)).toEqual({
      at: AT,
      kind: 'dropped',
      reason:
        'field type conflict: x is integer, got float (fix: always send x as integer, or send it under a new field name)',
      conflict: { measurement: 'telemetry', field: 'x', stored: 'integer', got: 'float' },
    });
  });

  it('reads the other type pairs and names with quotes or spaces in them', () => {
    const line = (field: string, got: string, stored: string) =>
      `${T} E! [outputs.influxdb] When writing to [http://influxdb:8086]: received error partial write: field type ` +
      `conflict: input field "${field}" on measurement "my room" is type ${got}, already exists as type ${stored} dropped=3; discarding points`;
    expect(parseTelegrafLine(line('temperature', 'integer', 'float'))).toMatchObject({
      reason:
        'field type conflict: temperature is float, got integer (fix: always send temperature as float, or send it under a new field name)',
      conflict: { measurement: 'my room', field: 'temperature', stored: 'float', got: 'integer' },
    });
    expect(parseTelegrafLine(line('say "hi"', 'string', 'boolean'))?.conflict).toEqual({
      measurement: 'my room',
      field: 'say "hi"',
      stored: 'boolean',
      got: 'string',
    });
    // a type InfluxDB does not have is not a conflict Makerdeck can map; the drop is still reported
    const odd = parseTelegrafLine(line('x', 'weird', 'float'));
    expect([odd?.kind, odd?.conflict]).toEqual(['dropped', undefined]);
  });

  it.each([
    [
      `${T} E! [outputs.influxdb] E! [outputs.influxdb] Failed to write metric (will be dropped: 401 Unauthorized): authorization failed`,
      { kind: 'dropped', reason: 'InfluxDB refused them (401 Unauthorized: authorization failed)' },
    ],
    [
      `${T} E! [outputs.influxdb] When writing to [http://influxdb:8086]: received error unable to parse 'x': bad timestamp; discarding points`,
      { kind: 'dropped', reason: "InfluxDB refused them (unable to parse 'x': bad timestamp)" },
    ],
    [
      `${T} W! [outputs.influxdb] Metric buffer overflow; 12 metrics have been dropped`,
      { kind: 'dropped', reason: "Telegraf's buffer overflowed: 12 points dropped" },
    ],
    [
      `${T} E! [inputs.mqtt_consumer] Error in plugin: metric parse error: expected field at 1:19: "telemetry,device=a"`,
      {
        kind: 'dropped',
        reason: 'a message Telegraf cannot parse (metric parse error: expected field at 1:19: "telemetry,device=a")',
      },
    ],
    [
      `${T} E! [outputs.influxdb] When writing to [http://influxdb:8086]: failed doing req: Post "http://influxdb:8086/write": dial tcp: lookup influxdb: no such host`,
      {
        kind: 'failing',
        reason: 'failed doing req: Post "http://influxdb:8086/write": dial tcp: lookup influxdb: no such host',
      },
    ],
  ])('%s', (line, event) => {
    expect(parseTelegrafLine(line)).toEqual({ at: AT, ...event });
  });

  it.each([
    `${T} I! Starting Telegraf 1.34.4`,
    `${T} E! [agent] Error writing to outputs.influxdb: could not write any address`, // the line above says why
    `${T} E! [inputs.mqtt_consumer] Error in plugin: connection lost: EOF`, // not a loss: its session keeps them
    `${T} W! [outputs.influxdb] When writing to [http://influxdb:8086]: received error points beyond retention policy`,
    `${T} D! [outputs.influxdb] Wrote batch of 3 metrics in 4ms`,
    'E! [outputs.influxdb] Failed to write metric (will be dropped: 400): no timestamp',
    'partial write: field type conflict: input field "x" on measurement "t" is type float, already exists as type integer',
    '',
  ])('ignores %j', (line) => {
    expect(parseTelegrafLine(line)).toBeUndefined();
  });

  it('keeps reasons printable and bounded, whatever InfluxDB said', () => {
    const hostile = `${T} E! [outputs.influxdb] When writing to [u]: ${'\u001b[31m'.repeat(100)}${'a'.repeat(5000)}`;
    const event = parseTelegrafLine(hostile)!;
    expect(event.reason).not.toMatch(/[\u0000-\u001f]/);
    expect(event.reason.length).toBeLessThanOrEqual(301);
  });
});

describe("Telegraf's recent losses", () => {
  it('says "dropping points" with the newest reason and lists each conflict once, until the window passes', () => {
    const tracker = new TelegrafLossTracker();
    expect(tracker.add([`${T} I! Starting Telegraf 1.34.4`])).toBe(false);
    expect(tracker.view(AT)).toBeUndefined();
    expect(tracker.add([CONFLICT, CONFLICT.replace('11:40:00', '11:40:05')])).toBe(true);
    const loss = tracker.view(AT + 10_000);
    expect(loss).toEqual({
      state: 'dropping',
      message:
        'dropping points: field type conflict: x is integer, got float (fix: always send x as integer, or send it under a new field name)',
      lastAt: AT + 5000,
      count: 2,
      conflicts: [{ measurement: 'telemetry', field: 'x', stored: 'integer', got: 'float', lastAt: AT + 5000 }],
    });
    // InfluxDB unreachable afterwards: points wait in Telegraf's buffer; the conflict is still listed
    tracker.add([
      `${T.replace('11:40:00', '11:41:00')} E! [outputs.influxdb] When writing to [h]: failed doing req: EOF`,
    ]);
    expect(tracker.view(AT + 61_000)).toMatchObject({
      state: 'failing',
      message: "not writing to InfluxDB: failed doing req: EOF (points wait in Telegraf's buffer)",
      conflicts: [expect.objectContaining({ field: 'x' })],
    });
    expect(tracker.view(AT + 60_000 + LOSS_WINDOW_MS + 1)).toBeUndefined();
  });
});
