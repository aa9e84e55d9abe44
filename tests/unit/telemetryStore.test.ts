import { describe, expect, it } from 'vitest';
import { toCsv, toLineProtocol } from '../../electron/contract/telemetryExport';
import { ingestMessage, nanosToMillis } from '../../electron/core/telemetry/ingest';
import { parseEscaped, parseLineProtocol } from '../../electron/core/lineProtocol';
import { SeriesRing } from '../../electron/core/telemetry/seriesRing';
import { TelemetryStore } from '../../electron/core/telemetry/telemetryStore';

describe('line protocol fast path', () => {
  it('agrees with the full scanner on random lines without escapes (200,000 cases)', () => {
    const alphabet = 'telmryabc019,= .-iTfu';
    let seed = 42;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 200_000; i++) {
      const line = Array.from({ length: 1 + random(30) }, () => alphabet[random(alphabet.length)]).join('');
      const [fast, full] = [parseLineProtocol(line), parseEscaped(line)];
      expect(fast.ok, line).toBe(full.ok); // reasons may differ: the two check in another order
      if (fast.ok && full.ok) expect(fast.point, line).toEqual(full.point);
    }
  });
});

describe('series ring', () => {
  it('keeps the newest points up to its capacity and finds a time range across the wrap', () => {
    const ring = new SeriesRing(5);
    for (let t = 1; t <= 8; t++) expect(ring.push(t * 10, t)).toBe(true);
    expect(ring.length).toBe(5);
    expect(ring.range(0, 1000)).toEqual({ t: [40, 50, 60, 70, 80], v: [4, 5, 6, 7, 8] });
    expect(ring.range(55, 70)).toEqual({ t: [60, 70], v: [6, 7] });
    expect(ring.push(75, 0)).toBe(false); // older than the newest: dropped
    expect(ring.range(90, 100)).toEqual({ t: [], v: [] });
  });
});

describe('telemetry store and ingest', () => {
  const ingest = (store: TelemetryStore, topic: string, payload: string | Buffer, now = 1000) =>
    ingestMessage(store, topic, Buffer.from(payload), now);

  it('takes the device from the topic, times from the line or the arrival, and batches per series', () => {
    const store = new TelemetryStore({ pointsPerSeries: 100, maxSeries: 10 });
    const now = 1700000000000;
    ingest(store, 'makerdeck/d1/telemetry', 'telemetry,device=d1 a=1i,b=2.5,on=t,label="x"', now);
    ingest(store, 'makerdeck/d1/telemetry', 'telemetry,device=d1 a=2i 1700000000123000000', now + 200);
    ingest(store, 'makerdeck/d1/status', 'offline', now + 300);
    const batch = store.takeBatch(now + 300)!;
    expect(batch.series).toEqual([
      { device: 'd1', field: 'a', t: [now, now + 123], v: [1, 2] },
      { device: 'd1', field: 'b', t: [now], v: [2.5] },
      { device: 'd1', field: 'on', t: [now], v: [1] },
    ]);
    expect(batch.devices).toEqual([
      expect.objectContaining({
        device: 'd1',
        status: 'offline',
        source: 'mqtt',
        last: [
          { field: 'a', t: now + 123, v: 2 },
          { field: 'b', t: now, v: 2.5 },
          { field: 'on', t: now, v: 1 },
        ],
      }),
    ]);
    expect([batch.accepted, batch.rejected]).toEqual([2, 0]);
    expect(store.takeBatch(now + 300)).toBeUndefined();
  });

  it('rejects bad topics and payloads with a reason, and never throws', () => {
    const store = new TelemetryStore({ pointsPerSeries: 100, maxSeries: 2 });
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['makerdeck/../telemetry', 'telemetry a=1', /not a makerdeck/],
      ['makerdeck/d1/telemetry/extra', 'telemetry a=1', /not a makerdeck/],
      ['other/d1/telemetry', 'telemetry a=1', /not a makerdeck/],
      ['makerdeck/d1/telemetry', Buffer.from([1, 0, 2]), /binary/],
      ['makerdeck/d1/telemetry', 'x'.repeat(70_000), /larger than 64 KiB/],
      ['makerdeck/d1/telemetry', 'telemetry a="text only"', /no numeric field/],
      ['makerdeck/d1/status', 'maybe', /online" or "offline/],
      ['makerdeck/d1/telemetry', 'telemetry z=3', /all 2 series are taken/],
    ];
    ingest(store, 'makerdeck/d1/telemetry', 'telemetry x=1,y=2'); // fills the store's two series
    for (const [topic, payload, reason] of cases) {
      const before = store.rejected;
      ingest(store, topic, payload);
      expect(store.rejected, topic).toBe(before + 1);
      expect(store.recentRejects().at(-1)!.reason).toMatch(reason);
    }
    expect(store.recentRejects().every((r) => r.sample.length <= 80 && /^[\x20-\x7e]*$/.test(r.sample))).toBe(true);
  });

  it('hands each batch the payloads rejected since the last one, with reasons, at most 20 listed', () => {
    const store = new TelemetryStore({ pointsPerSeries: 100, maxSeries: 4 });
    ingest(store, 'makerdeck/d1/telemetry', 'telemetry a=hot', 5);
    ingest(store, 'makerdeck/d1/status', 'maybe', 6);
    const first = store.takeBatch()!;
    expect(first.rejects).toEqual([
      { t: expect.any(Number), topic: 'makerdeck/d1/telemetry', reason: expect.any(String), sample: 'telemetry a=hot' },
      { t: expect.any(Number), topic: 'makerdeck/d1/status', reason: expect.stringMatching(/online/), sample: 'maybe' },
    ]);
    for (let i = 0; i < 30; i++) ingest(store, 'other/topic', 'x');
    const flood = store.takeBatch()!;
    expect([flood.rejected, flood.rejects!.length]).toEqual([32, 20]); // the count says the rest
    ingest(store, 'makerdeck/d1/telemetry', 'telemetry a=1');
    expect(store.takeBatch()!.rejects).toEqual([]);
  });

  it('holds memory to its bound however many points arrive', () => {
    const store = new TelemetryStore({ pointsPerSeries: 1000, maxSeries: 4 });
    for (let i = 0; i < 50_000; i++) ingest(store, 'makerdeck/d1/telemetry', `telemetry v=${i}`, i);
    expect(store.window([{ device: 'd1', field: 'v' }], 0, 1e9)[0]!.t).toHaveLength(1000);
    expect(store.window([{ device: 'd1', field: 'v' }], 0, 1e9)[0]!.v[0]).toBe(49_000);
  });

  it('converts nanoseconds to milliseconds', () => {
    expect(nanosToMillis('1700000000123456789')).toBe(1700000000123);
    expect(nanosToMillis('5')).toBe(0);
    expect(nanosToMillis('-1234567')).toBe(-1); // 7 digits and a sign: was NaN
    expect(nanosToMillis('-123456')).toBe(0);
    expect(nanosToMillis('-9223372036854775808')).toBe(-9223372036854);
  });
});

describe('export of a window', () => {
  const series = [
    { device: 'd1', field: 'a', t: [1000, 2000], v: [1, 2] },
    { device: 'd1', field: '=cmd', t: [1000], v: [9] },
  ];

  it('writes CSV that a spreadsheet cannot run as a formula', () => {
    expect(toCsv(series)).toBe(
      "time,time_ms,device,field,value\n1970-01-01T00:00:01.000Z,1000,d1,'=cmd,9\n1970-01-01T00:00:01.000Z,1000,d1,a,1\n1970-01-01T00:00:02.000Z,2000,d1,a,2\n",
    );
  });

  it('writes line protocol the parser reads back, fields of one time together', () => {
    const text = toLineProtocol(series);
    expect(text).toBe('telemetry,device=d1 a=1,\\=cmd=9 1000000000\ntelemetry,device=d1 a=2 2000000000\n');
    const back = text
      .trim()
      .split('\n')
      .map((line) => parseLineProtocol(line));
    expect(back.map((r) => r.ok && r.point.fields)).toEqual([
      new Map([
        ['a', 1],
        ['=cmd', 9],
      ]),
      new Map([['a', 2]]),
    ]);
  });
});
