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
      { device: 'd1', field: 'a', t: [now, now + 123], v: [1, 2], integer: true },
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

describe('field types through the store and the export', () => {
  const ingest = (store: TelemetryStore, payload: string, now: number) =>
    ingestMessage(store, 'makerdeck/d1/telemetry', Buffer.from(payload), now);

  it('keeps integers integers: the line-protocol export writes 512i, and InfluxDB gets the type it stored', () => {
    const store = new TelemetryStore({ pointsPerSeries: 100 });
    const now = 1700000000000;
    ingest(store, 'telemetry,device=d1 seq=1i,a0=512i,temp_c=21,hum=40.5', now);
    ingest(store, 'telemetry,device=d1 seq=2i,a0=513i,temp_c=21.5,hum=41', now + 1000);
    const batch = store.takeBatch(now + 1000)!;
    const text = toLineProtocol(batch.series);
    expect(text).toBe(
      'telemetry,device=d1 seq=1i,a0=512i,temp_c=21,hum=40.5 1700000000000000000\n' +
        'telemetry,device=d1 seq=2i,a0=513i,temp_c=21.5,hum=41 1700000001000000000\n',
    );
    // read back: the same fields are integers as in what the device sent
    const back = text.trim().split('\n').map(parseLineProtocol);
    expect(back.map((r) => r.ok && [...(r.point.integers ?? [])])).toEqual([
      ['seq', 'a0'],
      ['seq', 'a0'],
    ]);
    // the live window answers with the type too (the page's export of history and live points)
    expect(store.window([{ device: 'd1', field: 'a0' }], 0, now + 2000)).toEqual([
      { device: 'd1', field: 'a0', t: [now, now + 1000], v: [512, 513], integer: true },
    ]);
    expect(store.window([{ device: 'd1', field: 'hum' }], 0, now + 2000)[0]!.integer).toBeUndefined();
  });

  it('splits a batch where a series changes type, so each part exports as it was sent', () => {
    const store = new TelemetryStore({ pointsPerSeries: 100 });
    const now = 1700000000000;
    ingest(store, 'telemetry,device=d1 x=1i', now);
    ingest(store, 'telemetry,device=d1 x=1.5', now + 1);
    ingest(store, 'telemetry,device=d1 x=2.5', now + 2);
    const batch = store.takeBatch(now + 2)!;
    expect(batch.series).toEqual([
      { device: 'd1', field: 'x', t: [now], v: [1], integer: true },
      { device: 'd1', field: 'x', t: [now + 1, now + 2], v: [1.5, 2.5] },
    ]);
    expect(store.devicesSending('x', false)).toEqual(['d1']);
    expect(store.devicesSending('x', true)).toEqual([]);
    expect(toLineProtocol(batch.series)).toContain('x=1i ');
  });

  it('writes a non-integer value of an integer series as a float rather than a wrong integer', () => {
    expect(toLineProtocol([{ device: 'd', field: 'x', t: [1000], v: [1.5], integer: true }])).toBe(
      'telemetry,device=d x=1.5 1000000000\n',
    );
  });
});

describe('device state', () => {
  const at = 1700000000000;
  const telemetry = (store: TelemetryStore, device: string, now: number) =>
    ingestMessage(store, `makerdeck/${device}/telemetry`, Buffer.from(`telemetry,device=${device} x=1`), now);
  const status = (store: TelemetryStore, device: string, said: string) =>
    ingestMessage(store, `makerdeck/${device}/status`, Buffer.from(said), at);
  const view = (store: TelemetryStore, device: string) => store.deviceViews().find((d) => d.device === device);

  it('is unknown until known; telemetry says online for a device without a status topic', () => {
    const store = new TelemetryStore();
    expect(view(store, 'd1')).toBeUndefined();
    telemetry(store, 'd1', at);
    expect(view(store, 'd1')).toMatchObject({ status: 'online', statusNote: 'from its telemetry' });
  });

  it('goes offline after three of its intervals without telemetry (at least 5 s), and online again when it reports', () => {
    const store = new TelemetryStore();
    for (let i = 0; i < 4; i++) telemetry(store, 'd1', at + i * 2000); // every 2 s
    store.takeBatch(at + 6000);
    store.sweepSilent(at + 6000 + 6000); // 6 s silent: 3 × 2 s, not more
    expect(view(store, 'd1')?.status).toBe('online');
    expect(store.takeBatch(at + 12_000)).toBeUndefined();
    store.sweepSilent(at + 6000 + 6001);
    expect(view(store, 'd1')).toMatchObject({ status: 'offline', statusNote: 'silent for 6 s (no status topic)' });
    expect(store.takeBatch(at + 12_001)?.devices).toEqual([
      expect.objectContaining({ device: 'd1', status: 'offline' }),
    ]);
    telemetry(store, 'd1', at + 20_000);
    expect(view(store, 'd1')?.status).toBe('online');
    // a fast device still gets 5 s; one seen once is given the firmware's default interval (10 s)
    const fast = new TelemetryStore();
    telemetry(fast, 'f', at);
    telemetry(fast, 'f', at + 100);
    fast.sweepSilent(at + 100 + 5000);
    expect(view(fast, 'f')?.status).toBe('online');
    fast.sweepSilent(at + 100 + 5001);
    expect(view(fast, 'f')?.status).toBe('offline');
    const once = new TelemetryStore();
    telemetry(once, 'o', at);
    once.sweepSilent(at + 30_000);
    expect(view(once, 'o')?.status).toBe('online');
    once.sweepSilent(at + 30_001);
    expect(view(once, 'o')?.status).toBe('offline');
  });

  it('trusts a status topic over silence: online until its last will says offline', () => {
    const store = new TelemetryStore();
    status(store, 'd1', 'online');
    telemetry(store, 'd1', at);
    telemetry(store, 'd1', at + 1000);
    store.sweepSilent(at + 3_600_000);
    expect(view(store, 'd1')).toMatchObject({ status: 'online', statusNote: 'from its status topic' });
    status(store, 'd1', 'offline');
    expect(view(store, 'd1')).toMatchObject({ status: 'offline', statusNote: 'from its status topic' });
    // telemetry after a stale "offline" (a board without status, a gateway that crashed): it is online
    telemetry(store, 'd1', at + 3_600_000);
    expect(view(store, 'd1')).toMatchObject({ status: 'online', statusNote: 'from its telemetry' });
  });
});
