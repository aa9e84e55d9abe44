// The telemetry rules against hostile input, one by one: the timestamp window, points stamped ahead
// of the clock, out-of-order points, the per-device series quota and the fair share of the global
// cap, names that are built-ins' property names, name limits, control characters, invalid UTF-8,
// huge values, CSV injection, and export of every accepted point.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runAction } from '../../electron/cli/command';
import { pointsOf } from '../../electron/cli/commands/telemetry';
import type { TelemetryBatch } from '../../electron/contract';
import { toCsv, toLineProtocol } from '../../electron/contract/telemetryExport';
import { EARLIEST_MS, ingestMessage, MAX_AHEAD_MS } from '../../electron/core/telemetry/ingest';
import { parseEscaped, parseLineProtocol, plotValues } from '../../electron/core/lineProtocol';
import { retryDelay } from '../../electron/core/telemetry/mqttSource';
import { SerialGateway } from '../../electron/core/telemetry/serialGateway';
import { TelemetryStore, type StoreLimits } from '../../electron/core/telemetry/telemetryStore';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const ns = (ms: number) => `${ms}000000`;
const ingest = (store: TelemetryStore, device: string, payload: string | Buffer, now = NOW) =>
  ingestMessage(store, `makerdeck/${device}/telemetry`, Buffer.from(payload), now);
const lastReason = (store: TelemetryStore) => store.recentRejects().at(-1)?.reason;
const all = (store: TelemetryStore, device: string, field: string) => store.window([{ device, field }], 0, 8.64e15)[0]!;
const fieldsLine = (count: number, prefix = 'f') =>
  `telemetry ${Array.from({ length: count }, (_, i) => `${prefix}${i}=${i}`).join(',')}`;
const newStore = (limits: Partial<StoreLimits> = {}) => new TelemetryStore({ pointsPerSeries: 1000, ...limits });

describe('the timestamp window', () => {
  it.each([
    ['-1234567', /before 2000-01-01/], // 7 digits and a sign: once NaN, which crashed tail and CSV export
    ['-9223372036854775808', /before 2000-01-01/],
    ['0', /before 2000-01-01/],
    [String(Math.floor(NOW / 1000)), /before 2000-01-01.*nanoseconds/], // seconds instead of ns
    [String(NOW), /before 2000-01-01/], // ms instead of ns
    [`${NOW}000`, /before 2000-01-01/], // µs instead of ns
    [ns(EARLIEST_MS - 1), /before 2000-01-01/],
    [ns(NOW + MAX_AHEAD_MS + 1), /301 s ahead of this computer's clock \(at most 300 s\)/],
    ['9223372036854775807', /ahead of this computer's clock/], // the largest int64: year 2262
  ])('rejects a point stamped %s with the reason, counted like any reject', (stamp, reason) => {
    const store = newStore();
    ingest(store, 'd1', `telemetry a=1 ${stamp}`);
    expect([store.accepted, store.rejected]).toEqual([0, 1]);
    expect(lastReason(store)).toMatch(reason);
    expect(store.recentRejects().at(-1)!.sample).toContain(stamp.slice(0, 20));
  });

  it('accepts the edges: 2000-01-01T00:00:00Z, now, and 5 minutes ahead (which waits for its time)', () => {
    const store = newStore();
    ingest(store, 'd1', `telemetry a=1 ${ns(EARLIEST_MS)}`);
    ingest(store, 'd1', `telemetry a=2 ${ns(NOW)}`);
    ingest(store, 'd1', `telemetry a=3 ${ns(NOW + MAX_AHEAD_MS)}`);
    expect([store.accepted, store.rejected]).toEqual([3, 0]);
    expect(store.takeBatch(NOW)!.series[0]!.t).toEqual([EARLIEST_MS, NOW]);
    expect(store.takeBatch(NOW + MAX_AHEAD_MS)!.series[0]!.t).toEqual([NOW + MAX_AHEAD_MS]);
  });

  it('lets a point stamped ahead of the clock wait, so it never freezes its series', () => {
    const store = newStore();
    ingest(store, 'd1', `telemetry a=100 ${ns(NOW + 60_000)}`); // a minute ahead
    for (let s = 1; s <= 5; s++) ingest(store, 'd1', `telemetry a=${s}`, NOW + s * 1000); // arrival-stamped
    const arrived = [1, 2, 3, 4, 5].map((s) => NOW + s * 1000);
    expect(store.takeBatch(NOW + 5000)!.series).toEqual([{ device: 'd1', field: 'a', t: arrived, v: [1, 2, 3, 4, 5] }]);
    ingest(store, 'd1', 'telemetry a=6', NOW + 59_000);
    ingest(store, 'd1', 'telemetry a=7', NOW + 61_000); // the waiting point's time has come: it goes first
    expect(store.takeBatch(NOW + 61_000)!.series[0]!.v).toEqual([6, 100, 7]);
    expect(all(store, 'd1', 'a').t).toEqual([1, 2, 3, 4, 5, 59, 60, 61].map((s) => NOW + s * 1000));
    expect([store.accepted, store.rejected]).toEqual([8, 0]);
  });

  it('rejects an older point with the reason and still accepts the newer ones after it', () => {
    const store = newStore();
    ingest(store, 'd1', `telemetry a=1 ${ns(NOW - 10_000)}`);
    ingest(store, 'd1', `telemetry a=2 ${ns(NOW)}`);
    ingest(store, 'd1', `telemetry a=3 ${ns(NOW - 5000)}`);
    expect(lastReason(store)).toBe('older than the last point of its series');
    ingest(store, 'd1', `telemetry a=4 ${ns(NOW + 1)}`, NOW + 1);
    ingest(store, 'd1', 'telemetry a=5', NOW + 2);
    expect(all(store, 'd1', 'a').v).toEqual([1, 2, 4, 5]);
    expect([store.accepted, store.rejected]).toEqual([4, 1]);
  });

  it('bounds the points waiting for their time, per series', () => {
    const store = newStore({ waitingPerSeries: 10 });
    for (let i = 1; i <= 11; i++) ingest(store, 'd1', `telemetry a=${i} ${ns(NOW + 1000 + i)}`);
    expect([store.accepted, store.rejected]).toEqual([10, 1]);
    expect(lastReason(store)).toMatch(/more than 10 points stamped ahead of this computer's clock wait/);
    expect(store.takeBatch(NOW + 2000)!.series[0]!.v).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('series quotas', () => {
  it('keeps 64 series of a 256-field message and says why the rest were not kept', () => {
    const store = newStore();
    ingest(store, 'noisy', fieldsLine(256));
    expect(store.seriesCount('noisy')).toBe(64);
    expect([store.accepted, store.rejected]).toEqual([1, 1]);
    expect(lastReason(store)).toBe('192 of 256 fields not kept: at most 64 series per device: new fields are not kept');
    ingest(store, 'quiet', 'telemetry temp=21.5,hum=40');
    expect(store.seriesCount('quiet')).toBe(2);
  });

  it('shares the global cap fairly: one noisy device, then many, never blind a quiet one', () => {
    const store = newStore();
    for (let d = 0; d < 4; d++) ingest(store, `noisy-${d}`, fieldsLine(256));
    expect(store.seriesCount('noisy-0') * 4).toBe(256); // full
    ingest(store, 'quiet', fieldsLine(8, 'q'), NOW + 1);
    expect(store.seriesCount('quiet')).toBe(8);
    for (let round = 0; round < 3; round++) {
      for (let d = 0; d < 20; d++) ingest(store, `noisy-${d}`, fieldsLine(256), NOW + 2 + round);
    }
    ingest(store, 'quiet', fieldsLine(8, 'q'), NOW + 10);
    // 21 devices, 256 series: each holds min(its fields, its share) and no noisy one more than one above another
    expect(store.seriesCount('quiet')).toBe(8);
    const noisy = Array.from({ length: 20 }, (_, d) => store.seriesCount(`noisy-${d}`));
    expect(noisy.reduce((a, b) => a + b) + 8).toBe(256);
    expect(Math.max(...noisy) - Math.min(...noisy)).toBeLessThanOrEqual(1);
    expect(lastReason(store)).toMatch(/all 256 series are taken|at most 64 series per device/);
  });

  it('bounds the devices it knows: one without series makes room, else the new one is rejected', () => {
    const store = newStore({ maxDevices: 3 });
    store.setStatus('status-only', 'online');
    ingest(store, 'd1', 'telemetry a=1');
    ingest(store, 'd2', 'telemetry a=1');
    ingest(store, 'd3', 'telemetry a=1'); // forgets status-only
    expect(store.deviceViews().map((d) => d.device)).toEqual(['d1', 'd2', 'd3']);
    ingest(store, 'd4', 'telemetry a=1');
    expect(lastReason(store)).toMatch(/more than 3 devices, all holding series/);
    expect(store.deviceViews()).toHaveLength(3);
  });
});

describe("names that are built-ins' property names", () => {
  const names = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf', 'prototype', '__defineGetter__'];
  names.push('isPrototypeOf');
  const line = `telemetry,__proto__=x,constructor=y ${names.map((n, i) => `${n}=${i + 1}`).join(',')}`;
  const toString = Object.prototype.toString;
  const hasOwn = Object.prototype.hasOwnProperty;

  it('charts them like any field, and no built-in changes', () => {
    const store = newStore();
    for (const device of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      ingest(store, device, line, NOW);
      ingest(store, device, line, NOW + 1);
    }
    expect(store.rejected).toBe(0);
    names.forEach((name, i) => expect(all(store, 'constructor', name).v).toEqual([i + 1, i + 1]));
    expect(
      store
        .deviceViews()
        .find((d) => d.device === 'toString')!
        .last.map((l) => l.field),
    ).toEqual(names);
    const batch = store.takeBatch(NOW + 1)!;
    expect(batch.series).toHaveLength(4 * names.length);
    // built-ins untouched
    expect({}.constructor).toBe(Object);
    expect(Object.prototype.toString).toBe(toString);
    expect(Object.prototype.hasOwnProperty).toBe(hasOwn);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    for (const probe of [{}, Object, Object.prototype, toString, hasOwn]) {
      expect(['t', 'v', 'a', 'x', 'y'].filter((key) => key in probe)).toEqual([]);
    }
    expect(String({})).toBe('[object Object]');
  });

  it('prints, exports and reads back those fields as own data', () => {
    const store = newStore();
    ingest(store, 'constructor', line);
    const batch = store.takeBatch(NOW)!;
    const [point] = pointsOf(batch);
    expect(Object.keys(point!.fields)).toEqual(names);
    const json = `{${names.map((n, i) => `"${n}":${i + 1}`).join(',')}}`;
    expect(JSON.parse(JSON.stringify(point)).fields).toEqual(JSON.parse(json));
    expect(Object.getPrototypeOf(point!.fields)).toBe(Object.prototype); // __proto__ was a field, not a prototype
    const csv = toCsv(batch.series);
    for (const name of names) expect(csv).toContain(`,constructor,${name},${names.indexOf(name) + 1}\n`);
    const back = parseLineProtocol(toLineProtocol(batch.series).trim());
    expect(back.ok && [...back.point.fields]).toEqual(names.map((n, i) => [n, i + 1]));
    expect(back.ok && [...back.point.tags]).toEqual([['device', 'constructor']]);
  });

  it('keeps a monitor pair named __proto__ as an own entry', () => {
    const values = plotValues('__proto__:1 constructor=2 toString: 3')!;
    expect(Object.entries(values)).toEqual([
      ['__proto__', 1],
      ['constructor', 2],
      ['toString', 3],
    ]);
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
  });

  it('does not take a built-in for a CLI action', async () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const run = runAction({ positionals: [name] } as never, 'telemetry', { tail: async () => 0 });
      await expect(run).rejects.toThrow('Use one of: tail (see makerdeck telemetry --help)');
    }
  });
});

describe('names, characters and values', () => {
  const long = (n: number) => 'n'.repeat(n);

  it.each([
    ['a 257-character field name', `telemetry ${long(257)}=1`, /a field name longer than 256 characters/],
    ['a 64 KiB field name', `telemetry ${long(64 * 1024 - 20)}=1`, /a field name longer than 256 characters/],
    ['a 300-character tag name', `telemetry,${long(300)}=x a=1`, /a tag name longer than 256/],
    ['a 300-character measurement', `${long(300)} a=1`, /a measurement longer than 256/],
    ['a long field name beside a string (escaped scanner)', `telemetry ${long(257)}="text"`, /a field name longer/],
    ['a TAB in a name', 'telemetry \ta=1', /control character/],
    ['a CR in a name', 'telemetry a\r=1', /control character/],
    ['an ANSI escape in a name', 'telemetry \u001b[31mred=1', /control character/],
    ['a C1 CSI in a name', 'telemetry \u009b31mred=1', /control character/],
    ['a BEL in a tag value', 'telemetry,t=a\u0007b s="x",a=1', /tag t has a control character/],
    ['1e39', 'telemetry a=1e39', /field a has an invalid value/],
    ['-1e39', 'telemetry a=-1e39', /field a has an invalid value/],
  ])('rejects %s with the reason', (_what, line, reason) => {
    const result = parseLineProtocol(line);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
    expect(!result.ok && result.reason.length).toBeLessThan(200);
  });

  it('accepts a 256-character name, a string with control characters, ±1e38 and a CRLF ending', () => {
    expect(parseLineProtocol(`telemetry ${long(256)}=1`).ok).toBe(true);
    expect(parseLineProtocol('telemetry s="tab\there",a=1e38,b=-1e38').ok).toBe(true);
    expect(parseLineProtocol('telemetry a=1\r')).toMatchObject({ ok: true, point: { fields: new Map([['a', 1]]) } });
  });

  it('agrees with the full scanner on random lines with control characters (20,000 cases)', () => {
    const alphabet = 'tel,= .-i0123\t\r\u001b\u0085\u0000';
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 20_000; i++) {
      const line = Array.from({ length: 1 + random(16) }, () => alphabet[random(alphabet.length)]).join('');
      expect(parseLineProtocol(line).ok, JSON.stringify(line)).toBe(parseEscaped(line.replace(/\r$/, '')).ok);
    }
  });

  it('rejects invalid UTF-8 at ingest and keeps valid multi-byte names', () => {
    const store = newStore();
    for (const bytes of [
      [0xff, 0xfe],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
    ]) {
      ingest(store, 'd1', Buffer.concat([Buffer.from('telemetry a'), Buffer.from(bytes), Buffer.from('=1')]));
    }
    expect([store.accepted, store.rejected]).toEqual([0, 4]);
    expect(lastReason(store)).toBe('not valid UTF-8');
    ingest(store, 'd1', 'telemetry température=21.5,温度=3');
    expect(store.deviceViews()[0]!.last.map((l) => l.field)).toEqual(['température', '温度']);
  });

  it('never lets a reject reason or sample carry control characters or grow without bound', () => {
    const store = newStore();
    for (let i = 0; i < 2000; i++) ingest(store, 'd1', randomBytes(1 + (i % 300)));
    const printable = (text: string) => /^[^\u0000-\u001f\u007f-\u009f]*$/.test(text);
    for (const r of store.recentRejects()) {
      expect(printable(r.reason + r.sample + r.topic)).toBe(true);
      expect([r.reason.length <= 300, r.sample.length <= 80]).toEqual([true, true]);
    }
  });
});

describe('export', () => {
  it('neutralises CSV cells starting with = + - @ TAB or CR', () => {
    const fields = ['=1+1', '+cmd', '-2', '@SUM(A1)', '\tx', '\rx', 'plain', 'a,b', 'say "hi"', 'multi\nline'];
    const series = fields.map((field, i) => ({ device: 'd1', field, t: [1700000000000 + i], v: [i] }));
    const lines = toCsv(series).split('\n');
    expect(lines.slice(1, -1)).toEqual([
      "2023-11-14T22:13:20.000Z,1700000000000,d1,'=1+1,0",
      "2023-11-14T22:13:20.001Z,1700000000001,d1,'+cmd,1",
      "2023-11-14T22:13:20.002Z,1700000000002,d1,'-2,2",
      "2023-11-14T22:13:20.003Z,1700000000003,d1,'@SUM(A1),3",
      "2023-11-14T22:13:20.004Z,1700000000004,d1,'\tx,4",
      '2023-11-14T22:13:20.005Z,1700000000005,d1,"\'\rx",5',
      '2023-11-14T22:13:20.006Z,1700000000006,d1,plain,6',
      '2023-11-14T22:13:20.007Z,1700000000007,d1,"a,b",7',
      '2023-11-14T22:13:20.008Z,1700000000008,d1,"say ""hi""",8',
      '2023-11-14T22:13:20.009Z,1700000000009,d1,"multi',
      'line",9',
    ]);
  });

  it('exports every accepted point of a hostile corpus as CSV and line protocol, and never throws', () => {
    const store = newStore();
    const corpus = [
      `telemetry,device=x a=1,constructor=2,__proto__=3 ${ns(EARLIEST_MS)}`,
      `telemetry a=1e38,b=-1e38,c=0.000001,d=9007199254740993i ${ns(NOW - 1)}`,
      `telemetry é=1,\\=x=2,+y=3,-z=4,@w=5 ${ns(NOW)}`,
      `telemetry a\\,b\\=c\\ d=7 ${ns(NOW + 1000)}`,
      'telemetry a=1 -1234567',
      fieldsLine(256),
    ];
    for (const [i, line] of corpus.entries()) ingest(store, `dev-${i}`, line, NOW + 2000);
    const batch = store.takeBatch(NOW + 2000)!;
    const accepted = batch.series.reduce((n, s) => n + s.t.length, 0);
    expect(accepted).toBe(3 + 4 + 5 + 1 + 64);
    expect(toCsv(batch.series).trim().split('\n')).toHaveLength(1 + accepted);
    const back = toLineProtocol(batch.series)
      .trim()
      .split('\n')
      .map((l) => parseLineProtocol(l));
    expect(back.every((r) => r.ok)).toBe(true);
    expect(back.reduce((n, r) => n + (r.ok ? r.point.fields.size : 0), 0)).toBe(accepted);
    // what a hostile export input could still hold (history from elsewhere) does not throw
    const odd = [{ device: 'd', field: 'f', t: [NaN, -1234567, 9e15, 1.5], v: [Infinity, NaN, 1, 2] }];
    expect(() => toCsv(odd)).not.toThrow();
    expect(() => toLineProtocol(odd)).not.toThrow();
    expect(() => pointsOf({ series: odd, devices: [], accepted: 0, rejected: 0 } as TelemetryBatch)).not.toThrow();
  });
});

describe('points of one device in the same millisecond', () => {
  const batch = {
    series: [
      { device: 'd1', field: 'seq', t: [5, 5, 5, 6], v: [1, 2, 3, 4] },
      { device: 'd1', field: 'temp', t: [5, 5, 5, 6], v: [10, 20, 30, 40] },
    ],
    devices: [],
    accepted: 4,
    rejected: 0,
  };

  it('stay apart in telemetry tail, each with its own fields', () => {
    expect(pointsOf(batch).map((p) => [p.t, p.fields])).toEqual([
      [5, { seq: 1, temp: 10 }],
      [5, { seq: 2, temp: 20 }],
      [5, { seq: 3, temp: 30 }],
      [6, { seq: 4, temp: 40 }],
    ]);
  });

  it('stay apart in the line protocol export', () => {
    expect(toLineProtocol(batch.series)).toBe(
      ['seq=1,temp=10 5000000', 'seq=2,temp=20 5000000', 'seq=3,temp=30 5000000', 'seq=4,temp=40 6000000']
        .map((l) => `telemetry,device=d1 ${l}\n`)
        .join(''),
    );
  });
});

describe('the serial gateway', () => {
  it('rejects lines stamped outside the window and publishes none of them', () => {
    const store = newStore();
    const published: string[] = [];
    const target = { publish: (_topic: string, payload: string) => (published.push(payload), true) };
    const gateway = new SerialGateway('/dev/ttyTEST', store, target);
    gateway.receive([
      { t: NOW, text: 'telemetry,device=uno a=1 -1234567' },
      { t: NOW, text: `telemetry,device=uno a=2 ${ns(NOW + 3_600_000)}` },
      { t: NOW, text: 'telemetry,device=uno a=3' },
      ...Array.from({ length: 20 }, (_, i) => ({ t: NOW, text: `telemetry,device=uno-${i} a=4` })),
    ]);
    expect(published).toHaveLength(1 + 15); // uno, then 15 more device ids: 16 per port
    expect(store.recentRejects().map((r) => r.reason)).toEqual([
      expect.stringMatching(/before 2000/),
      expect.stringMatching(/3600 s ahead/),
      ...Array.from({ length: 5 }, () => 'more than 16 device ids from one serial port'),
    ]);
  });
});

describe('reconnect backoff', () => {
  it('waits 1 s, doubling to 30 s', () => {
    const delays = Array.from({ length: 8 }, (_, i) => retryDelay(i + 1));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(retryDelay(10_000)).toBe(30_000);
  });
});
