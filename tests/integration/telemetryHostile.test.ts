// Hostile telemetry on a real broker (Debian's Mosquitto, started here on 127.0.0.1 and stopped by
// its PID). First a corpus of hostile payloads, one at a time, each met with its expected outcome
// and reason; then a flood of them from many devices while a well-behaved device publishes. The
// host stays up, the good device's points all arrive, built-ins stay untouched, `makerdeck
// telemetry tail --json` keeps printing valid JSON lines, and the window exports as CSV and line
// protocol. Then a broker that refuses the login (Mosquitto with a password file): tail says so in
// one line and exits 3, and the telemetry service retries 1 s doubling to 30 s, counted at a TCP
// proxy between it and the broker.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecretService } from '../../scripts/services/keyring.js';
import { startMosquitto } from '../../scripts/services/mosquitto.js';
import { toCsv, toLineProtocol } from '../../electron/contract';
import type { SeriesPoints, TelemetryBatch, TelemetryState, TelemetryStatus } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { EARLIEST_MS, MAX_AHEAD_MS } from '../../electron/core/telemetry/ingest';
import { parseLineProtocol } from '../../electron/core/lineProtocol';
import { TelemetryService } from '../../electron/core/telemetry/telemetryService';
import { runCli } from '../support/cli';
import { repoRoot, requiredEnv } from '../support/env';
import { callHost, until } from '../support/wait';

interface Hostile {
  what: string;
  topic: string;
  payload: string | Buffer;
  /** What the host's counters must move by. */
  accepts: number;
  rejects: number;
  reason?: RegExp;
}

const PROTO_FIELDS = [
  'constructor',
  'toString',
  'hasOwnProperty',
  '__proto__',
  'valueOf',
  'prototype',
  '__defineGetter__',
  'isPrototypeOf',
];
const PROTO_LINE = `telemetry,__proto__=x,constructor=y ${PROTO_FIELDS.map((f, i) => `${f}=${i + 1}`).join(',')}`;
const CHECK_LOGIN = 'check the MQTT user and password with makerdeck env show / makerdeck env attach';
const MAKERDECK = path.join(repoRoot, 'bin', 'makerdeck.js');
const PIPES: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
/** Nothing listens there: these tests need no history. */
const NO_INFLUX = 'http://127.0.0.1:9';
const ns = (ms: number) => `${ms}000000`;
const fieldsLine = (count: number) => `telemetry ${Array.from({ length: count }, (_, i) => `f${i}=${i}`).join(',')}`;
const linesOf = (count: number, line: (i: number) => string) =>
  Array.from({ length: count }, (_, i) => line(i)).join('\n');
const reject = (what: string, topic: string, payload: string | Buffer, reason: RegExp): Hostile => ({
  what,
  topic,
  payload,
  accepts: 0,
  rejects: 1,
  reason,
});
const accept = (what: string, topic: string, payload: string | Buffer, accepts = 1): Hostile => ({
  what,
  topic,
  payload,
  accepts,
  rejects: 0,
});

/** The corpus: every entry with the outcome a correct host gives it. */
function hostileCorpus(now: number): Hostile[] {
  const ts = 'makerdeck/ts-1/telemetry';
  const name = 'makerdeck/names-1/telemetry';
  const bin = 'makerdeck/bin-1/telemetry';
  const big = 'makerdeck/big-1/telemetry';
  const val = 'makerdeck/val-1/telemetry';
  const wLine = (i: number) => `telemetry w=${i}`;
  const bytes = (...parts: Array<string | number[]>) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const noise = randomBytes(4096).map((b) => b || 1);
  noise[0] = 0xff; // never valid UTF-8
  return [
    // timestamps
    reject('a 7-digit negative timestamp', ts, 'telemetry a=1 -1234567', /before 2000-01-01/),
    reject('another 7-digit negative timestamp', ts, 'telemetry a=1 -9999999', /before 2000-01-01/),
    reject('the smallest int64 timestamp', ts, 'telemetry a=1 -9223372036854775808', /before 2000-01-01/),
    reject('the largest int64 timestamp (2262)', ts, 'telemetry a=1 9223372036854775807', /ahead of this computer/),
    reject('timestamp 0', ts, 'telemetry a=1 0', /before 2000-01-01/),
    reject('a timestamp in seconds', ts, `telemetry a=1 ${Math.floor(now / 1000)}`, /before 2000-01-01.*nanoseconds/),
    reject('a timestamp in milliseconds', ts, `telemetry a=1 ${now}`, /before 2000-01-01/),
    reject('a timestamp in microseconds', ts, `telemetry a=1 ${now}000`, /before 2000-01-01/),
    reject('a millisecond before 2000', ts, `telemetry a=1 ${ns(EARLIEST_MS - 1)}`, /before 2000-01-01/),
    reject('an hour ahead', ts, `telemetry a=1 ${ns(now + 3_600_000)}`, /ahead of this computer's clock \(at most 300/),
    reject('ten years ahead', ts, `telemetry a=1 ${ns(now + 10 * 365 * 86_400_000)}`, /ahead of this computer's clock/),
    reject('a 20-digit timestamp', ts, 'telemetry a=1 12345678901234567890', /the timestamp is not an integer/),
    reject('a timestamp in exponent form', ts, 'telemetry a=1 1e18', /the timestamp is not an integer/),
    accept('exactly 2000-01-01', ts, `telemetry past2000=1 ${ns(EARLIEST_MS)}`),
    accept('a day ago', ts, `telemetry yesterday=2 ${ns(now - 86_400_000)}`),
    accept('three seconds ahead (waits for its time)', ts, `telemetry future=3 ${ns(now + 3000)}`),
    accept('a second ago', ts, `telemetry recent=4 ${ns(now - 1000)}`),
    // fields and series
    {
      what: '256 fields from one device',
      topic: 'makerdeck/wide-1/telemetry',
      payload: fieldsLine(256),
      accepts: 1,
      rejects: 1,
      reason: /192 of 256 fields not kept: at most 64 series per device/,
    },
    reject('257 fields', 'makerdeck/wide-1/telemetry', fieldsLine(257), /more than 256 fields/),
    accept('1,000 lines in one message', 'makerdeck/wide-2/telemetry', linesOf(1000, wLine), 1000),
    reject('1,001 lines in one message', 'makerdeck/wide-3/telemetry', linesOf(1001, wLine), /more than 1000 lines/),
    // names that are built-ins' property names
    ...['constructor', 'toString', 'hasOwnProperty', 'valueOf'].map((device) =>
      accept(`prototype-named fields and tags from device ${device}`, `makerdeck/${device}/telemetry`, PROTO_LINE),
    ),
    reject('device __proto__', 'makerdeck/__proto__/telemetry', PROTO_LINE, /not a makerdeck/),
    reject('status of device __proto__', 'makerdeck/__proto__/status', 'online', /not a makerdeck/),
    // names
    reject('a 257-character field name', name, `telemetry ${'n'.repeat(257)}=1`, /a field name longer than 256/),
    reject('a 64 KiB field name', name, `telemetry ${'n'.repeat(64 * 1024 - 100)}=1`, /a field name longer than 256/),
    reject('a 300-character tag name', name, `telemetry,${'k'.repeat(300)}=v a=1`, /a tag name longer than 256/),
    reject('a 300-character measurement', name, `${'m'.repeat(300)} a=1`, /a measurement longer than 256/),
    accept('a 256-character field name', name, `telemetry ${'n'.repeat(256)}=1`),
    reject('an ANSI escape in a field name', name, 'telemetry \u001b[2Jclear=1', /control character/),
    reject('a TAB in a field name', name, 'telemetry a\tb=1', /control character/),
    reject('a CR in a field name', name, 'telemetry a\rb=1', /control character/),
    reject('a C1 control in a field name', name, 'telemetry \u009b6nprobe=1', /control character/),
    reject('a BEL in a tag value', name, 'telemetry,t=a\u0007b s="x",a=1', /tag t has a control character/),
    accept('a CRLF line ending', name, 'telemetry crlf=1\r\n'),
    // bytes
    reject('binary with NUL', bin, Buffer.from([0, 1, 2, 255, 254, 0]), /binary data/),
    reject('invalid UTF-8 (FF FE)', bin, bytes([0xff, 0xfe], 'telemetry a=1'), /not valid UTF-8/),
    reject('an overlong UTF-8 slash', bin, bytes('telemetry a', [0xc0, 0xaf], '=1'), /not valid UTF-8/),
    reject('an encoded UTF-16 surrogate', bin, bytes('telemetry a', [0xed, 0xa0, 0x80], '=1'), /not valid UTF-8/),
    reject('a truncated UTF-8 sequence', bin, bytes('telemetry a=1 ', [0xe2, 0x82]), /not valid UTF-8/),
    reject('4 KiB of random bytes', bin, Buffer.from(noise), /not valid UTF-8/),
    accept('a UTF-8 BOM', bin, '\ufefftelemetry bom=1'),
    accept('non-ASCII names', bin, 'telemetry température=21.5,温度=3,emoji😀=4'),
    // sizes
    reject('64 KiB + 1 byte', big, Buffer.alloc(64 * 1024 + 1, 'x'), /larger than 64 KiB/),
    reject('1 MiB', big, Buffer.alloc(1024 * 1024, 'y'), /larger than 64 KiB/),
    reject('8 MiB', big, Buffer.alloc(8 * 1024 * 1024, 'z'), /larger than 64 KiB/),
    // values
    reject('1e39', val, 'telemetry a=1e39', /field a has an invalid value/),
    reject('-1e39', val, 'telemetry a=-1e39', /field a has an invalid value/),
    reject('NaN', val, 'telemetry a=NaN', /field a has an invalid value/),
    reject('Infinity', val, 'telemetry a=Infinity', /field a has an invalid value/),
    accept(
      'extreme but drawable values',
      val,
      'telemetry big=1e38,small=-1e38,tiny=0.000001,i64=9223372036854775807i,u64=18446744073709551615u',
    ),
    reject('only a string field', val, 'telemetry s="only text"', /no numeric field to chart/),
    accept('a field given twice', val, 'telemetry dup=1,dup=2'),
    // spreadsheet and line protocol injection in names
    accept('formula-like field names', 'makerdeck/csv-1/telemetry', 'telemetry \\=cmd=1,+sum=2,-neg=3,@at=4'),
    accept('escaped separators in a field name', 'makerdeck/csv-1/telemetry', 'telemetry a\\ b\\,c\\=d=5'),
    // topics and malformed lines
    reject('a device id with $', 'makerdeck/bad$id/telemetry', 'telemetry a=1', /not a makerdeck/),
    reject('a 65-character device id', `makerdeck/${'a'.repeat(65)}/telemetry`, 'telemetry a=1', /not a makerdeck/),
    reject('a device id starting with -', 'makerdeck/-x/telemetry', 'telemetry a=1', /not a makerdeck/),
    reject('text after the timestamp', 'makerdeck/bad-1/telemetry', 'telemetry a=1 123 extra', /unexpected text/),
    reject('an unterminated string', 'makerdeck/bad-1/telemetry', 'telemetry a="open', /unterminated string/),
    reject('a tag without a value', 'makerdeck/bad-1/telemetry', 'telemetry,device a=1', /a tag without a value/),
    reject('SQL', 'makerdeck/bad-1/telemetry', '"; DROP TABLE telemetry; --', /./),
    reject('no fields', 'makerdeck/bad-1/telemetry', 'telemetry', /no fields/),
    // statuses
    reject('an unknown status', 'makerdeck/st-1/status', 'maybe', /"online" or "offline"/),
    reject('a 1 MiB status', 'makerdeck/st-1/status', Buffer.alloc(1024 * 1024, 'o'), /"online" or "offline"/),
    reject('a binary status', 'makerdeck/st-1/status', Buffer.from([0xff, 0, 0x6f]), /"online" or "offline"/),
  ];
}

let scratch: string;
let broker: Awaited<ReturnType<typeof startMosquitto>>;
let host: Host;
let tail: ChildProcess;
let tailOut = '';
let tailErr = '';
let tailExit: Promise<number | null>;
const batches: TelemetryBatch[] = [];
const states: TelemetryState[] = [];
const { toString, hasOwnProperty, valueOf } = Object.prototype;
const builtIns = { toString, hasOwnProperty, valueOf };
const tried = { corpus: 0, flood: 0, good: 0 };

const call = <T>(name: string, args: unknown) => callHost<T>(host, name, args);
const status = () => call<TelemetryStatus>('telemetry.status', {});
const received = (device: string, field: string) =>
  batches.flatMap((b) => b.series.filter((s) => s.device === device && s.field === field).flatMap((s) => s.v));
const windowOf = (series: Array<{ device: string; field: string }>) =>
  call<SeriesPoints[]>('telemetry.window', { series, from: EARLIEST_MS, to: Date.now() + MAX_AHEAD_MS });
const publisher = () => mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });

beforeAll(async () => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-hostile-'));
  broker = await startMosquitto({ dir: path.join(scratch, 'broker') });
  host = createHost({ kind: 'cli', quiet: true, dataDir: path.join(scratch, 'data') });
  host.bus.on('telemetry.batch', (batch) => batches.push(batch));
  host.bus.on('telemetry.state', (state) => states.push(state));
  const environment = { kind: 'attached', mqttUrl: broker.url, influxUrl: NO_INFLUX, influxDatabase: 'makerdeck' };
  await call('environment.set', { environment });
  await call('telemetry.connect', {});
  await until('the host connected', () => states.at(-1)?.broker.state === 'connected');
  // makerdeck telemetry tail --json, a second host in its own process, on the same broker
  const env = { ...process.env, MAKERDECK_DATA_DIR: path.join(scratch, 'cli-data') };
  const attach = ['env', 'attach', '--mqtt-url', broker.url, '--influx-url', NO_INFLUX, '--influx-db', 'makerdeck'];
  const attached = await runCli(attach, env);
  expect(attached.code, attached.stderr).toBe(0);
  tail = spawn(process.execPath, [MAKERDECK, 'telemetry', 'tail', '--json'], { env, stdio: PIPES });
  tail.stdout!.on('data', (chunk) => (tailOut += chunk));
  tail.stderr!.on('data', (chunk) => (tailErr += chunk));
  tailExit = new Promise((resolve) => tail.once('exit', resolve));
  await until('tail connected', () => tailErr.includes(': connected'));
}, 60_000);

afterAll(async () => {
  tail?.kill('SIGKILL');
  await host?.call('telemetry.disconnect', {});
  await broker?.stop();
  const { corpus, flood, good } = tried;
  console.info(`hostile telemetry tried: ${corpus} corpus payloads, ${flood} flood payloads, ${good} good points`);
  rmSync(scratch, { recursive: true, force: true });
});

describe('hostile telemetry on a real broker (Mosquitto)', () => {
  it('meets every payload of the hostile corpus with its outcome and its reason', async () => {
    const corpus = hostileCorpus(Date.now());
    const client = await publisher();
    for (const hostile of corpus) {
      const before = await status();
      await client.publishAsync(hostile.topic, hostile.payload, { qos: 1 });
      tried.corpus++;
      let now = before;
      await until(
        `${hostile.what}: +${hostile.accepts} accepted, +${hostile.rejects} rejected`,
        async () => {
          now = await status();
          return now.accepted - before.accepted >= hostile.accepts && now.rejected - before.rejected >= hostile.rejects;
        },
        10_000,
      );
      const moved = [now.accepted - before.accepted, now.rejected - before.rejected];
      expect(moved, hostile.what).toEqual([hostile.accepts, hostile.rejects]);
      if (hostile.reason) expect(now.recentRejects.at(-1)!.reason, hostile.what).toMatch(hostile.reason);
    }
    await client.publishAsync('makerdeck/constructor/status', 'online', { qos: 1 });
    await client.endAsync();
    const online = async () =>
      (await status()).devices.some((d) => d.device === 'constructor' && d.status === 'online');
    await until('device constructor online', online);
    // the point stamped ahead arrives when its time comes, after the others of its device
    await until('the point stamped 3 s ahead', () => received('ts-1', 'future').length === 1, 10_000);
    const views = (await status()).devices;
    expect(views.find((d) => d.device === 'toString')!.last.map((l) => l.field)).toEqual(PROTO_FIELDS);
    expect(views.find((d) => d.device === 'wide-1')!.last).toHaveLength(64);
    expect(received('wide-2', 'w')).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expectBuiltInsUntouched();
  }, 120_000);

  // before the flood: fair sharing may take series from these devices then
  it('exports the window of every accepted kind of point as CSV and line protocol', async () => {
    const refs = [
      ...PROTO_FIELDS.map((field) => ({ device: 'constructor', field })),
      ...['=cmd', '+sum', '-neg', '@at', 'a b,c=d'].map((field) => ({ device: 'csv-1', field })),
      ...['big', 'small', 'tiny', 'i64', 'u64', 'dup'].map((field) => ({ device: 'val-1', field })),
      ...['past2000', 'yesterday', 'future', 'recent'].map((field) => ({ device: 'ts-1', field })),
      ...['température', '温度', 'emoji😀', 'bom'].map((field) => ({ device: 'bin-1', field })),
      { device: 'names-1', field: 'n'.repeat(256) },
      { device: 'names-1', field: 'crlf' },
    ];
    const window = await windowOf(refs);
    const counts = window.map((s) => s.t.length);
    expect(
      counts.every((n) => n > 0),
      JSON.stringify(refs.filter((_, i) => counts[i] === 0)),
    ).toBe(true);
    const total = counts.reduce((a, b) => a + b, 0);

    const rows = parseCsv(toCsv(window));
    expect(rows[0]).toEqual(['time', 'time_ms', 'device', 'field', 'value']);
    expect(rows).toHaveLength(1 + total);
    for (const [time, ms, device, field, value] of rows.slice(1)) {
      expect(new Date(time!).getTime()).toBe(Number(ms));
      for (const text of [device!, field!]) expect(text, text).not.toMatch(/^[=+\-@\t\r]/);
      expect(Number.isFinite(Number(value))).toBe(true);
    }
    const fields = rows.slice(1).map((r) => r[3]);
    expect(fields).toEqual(expect.arrayContaining(["'=cmd", "'+sum", "'-neg", "'@at", 'a b,c=d', '__proto__']));

    const lines = toLineProtocol(window).trim().split('\n');
    const parsed = lines.map((line) => parseLineProtocol(line));
    expect(parsed.every((p) => p.ok)).toBe(true);
    expect(parsed.reduce((n, p) => n + (p.ok ? p.point.fields.size : 0), 0)).toBe(total);
    const proto = parsed.find((p) => p.ok && p.point.tags.get('device') === 'constructor');
    expect(proto?.ok && [...proto.point.fields.keys()].sort()).toEqual([...PROTO_FIELDS].sort());
    expectBuiltInsUntouched();
  });

  it('keeps charting a well-behaved device through a flood from many devices', async () => {
    const before = await status();
    const junk = hostileCorpus(Date.now()).filter((h) => h.accepts === 0 && h.payload.length <= 1024 * 1024);
    const [noisy, junky, good] = await Promise.all([publisher(), publisher(), publisher()]);
    const NOISY_DEVICES = 30;
    const ROUNDS = 4;
    const JUNK_ROUNDS = 20;
    const GOOD_POINTS = 500;
    const flood = async () => {
      for (let round = 0; round < ROUNDS; round++) {
        for (let d = 0; d < NOISY_DEVICES; d++) noisy.publish(`makerdeck/noisy-${d}/telemetry`, fieldsLine(256));
        // paced by the broker's ack
        await noisy.publishAsync('makerdeck/noisy-0/telemetry', fieldsLine(256), { qos: 1 });
      }
    };
    const junkFlood = async () => {
      for (let round = 0; round < JUNK_ROUNDS; round++) {
        for (const hostile of junk) junky.publish(hostile.topic, hostile.payload);
        await junky.publishAsync('makerdeck/bad-1/telemetry', 'telemetry', { qos: 1 });
      }
    };
    const goodDevice = async () => {
      for (let i = 0; i < GOOD_POINTS; i++) {
        const line = `telemetry,device=good-1 seq=${i}i,temp=${20 + (i % 7) / 10},hum=${40 + (i % 5)},volt=3.3`;
        good.publish('makerdeck/good-1/telemetry', line);
        if (i % 50 === 49) await good.publishAsync('makerdeck/good-1/status', 'online', { qos: 1 });
      }
    };
    await Promise.all([flood(), junkFlood(), goodDevice()]);
    await Promise.all([noisy.endAsync(), junky.endAsync(), good.endAsync()]);
    const noisyMessages = ROUNDS * (NOISY_DEVICES + 1);
    const junkRejects = JUNK_ROUNDS * (junk.reduce((n, h) => n + h.rejects, 0) + 1);
    tried.flood += noisyMessages + JUNK_ROUNDS * (junk.length + 1);
    tried.good += GOOD_POINTS;

    await until('every point of the good device', () => received('good-1', 'seq').length >= GOOD_POINTS, 60_000);
    // each 256-field message is one reject (more than its share), and so is every junk payload
    const counted = async () => (await status()).rejected - before.rejected >= noisyMessages + junkRejects;
    await until('every flood payload counted', counted, 30_000);
    const after = await status();
    expect(after.rejected - before.rejected).toBe(noisyMessages + junkRejects);
    expect(received('good-1', 'seq')).toEqual(Array.from({ length: GOOD_POINTS }, (_, i) => i)); // in order, none lost
    const goodView = after.devices.find((d) => d.device === 'good-1')!;
    const lastSeq = { field: 'seq', t: expect.any(Number), v: GOOD_POINTS - 1 };
    expect(goodView).toMatchObject({ status: 'online', last: expect.arrayContaining([lastSeq]) });
    expect(goodView.last.map((l) => l.field).sort()).toEqual(['hum', 'seq', 'temp', 'volt']);
    // the global cap is shared: every noisy device kept some room, none above its quota
    const held = after.devices.filter((d) => d.device.startsWith('noisy-')).map((d) => d.last.length);
    expect(held).toHaveLength(NOISY_DEVICES);
    expect(Math.max(...held)).toBeLessThanOrEqual(64);
    expect(after.devices.reduce((n, d) => n + d.last.length, 0)).toBeLessThanOrEqual(256);
    const printable = (r: TelemetryStatus['recentRejects'][number]) =>
      /^[\x20-\x7e]*$/.test(r.sample) && !/[\u0000-\u001f]/.test(r.reason);
    expect(after.recentRejects.every(printable)).toBe(true);
    expect(after.broker.state).toBe('connected');
    // …and its window still exports, every point of it
    const window = await windowOf(goodView.last.map(({ field }) => ({ device: 'good-1', field })));
    expect(window.map((s) => s.t.length)).toEqual([GOOD_POINTS, GOOD_POINTS, GOOD_POINTS, GOOD_POINTS]);
    expect(parseCsv(toCsv(window))).toHaveLength(1 + 4 * GOOD_POINTS);
    const lines = toLineProtocol(window).trim().split('\n');
    expect(lines.map((line) => parseLineProtocol(line).ok)).toEqual(Array.from({ length: GOOD_POINTS }, () => true));
    expectBuiltInsUntouched();
  }, 120_000);

  it('keeps makerdeck telemetry tail --json running, printing one valid JSON object per point or reject', async () => {
    expect(tail.exitCode).toBeNull(); // still running after the corpus and the flood
    await until('tail printed the last good point', () => tailOut.includes(`"seq":${tried.good - 1}`), 30_000);
    tail.kill('SIGINT');
    expect(await tailExit).toBe(0);
    type Printed = { time: string; t: number; device: string; fields: Record<string, number> };
    type Rejected = { type: 'rejected'; reason?: string; sample?: string; unlisted?: number };
    const objects = tailOut
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Printed | Rejected);
    // Rejects come as {"type":"rejected",…} objects with their reasons (a flood's overflow as a count).
    const rejects = objects.filter((o): o is Rejected => 'type' in o && o.type === 'rejected');
    const listed = rejects.filter((r) => r.unlisted === undefined);
    expect(listed.length).toBeGreaterThan(0);
    for (const reject of listed)
      expect(reject).toMatchObject({ reason: expect.any(String), sample: expect.any(String) });
    const printed = objects.filter((o): o is Printed => !('type' in o));
    for (const point of printed) {
      expect(Object.keys(point)).toEqual(['time', 't', 'device', 'fields']);
      expect(new Date(point.time).getTime()).toBe(point.t);
      expect(Object.values(point.fields).every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    }
    const goodSeq = printed.filter((p) => p.device === 'good-1').map((p) => p.fields.seq);
    expect(goodSeq).toEqual(Array.from({ length: tried.good }, (_, i) => i));
    const proto = printed.find((p) => p.device === 'constructor')!;
    expect(Object.keys(proto.fields)).toEqual(PROTO_FIELDS); // "__proto__" printed as an own field
    const stateLine = /^broker mqtt:\/\/127\.0\.0\.1:\d+: (connecting|connected)$/;
    expect(
      tailErr
        .trim()
        .split('\n')
        .every((line) => stateLine.test(line)),
    ).toBe(true);
  }, 60_000);
});

describe('a broker that refuses the login (Mosquitto with a password file)', () => {
  let authDir: string;
  let authBroker: Awaited<ReturnType<typeof startMosquitto>>;
  let keyring: Awaited<ReturnType<typeof startSecretService>>;
  const password = randomBytes(12).toString('hex');

  beforeAll(async () => {
    authDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-auth-'));
    authBroker = await startMosquitto({ dir: path.join(authDir, 'broker'), users: { makerdeck: password } });
    // a private Secret Service: the wrong password stays out of the keychain the other tests share
    keyring = await startSecretService({ dir: path.join(authDir, 'keyring') });
  }, 60_000);

  afterAll(async () => {
    await authBroker?.stop();
    await keyring?.stop();
    rmSync(authDir, { recursive: true, force: true });
  });

  const attach = async (env: NodeJS.ProcessEnv, secret: string) => {
    const args = ['env', 'attach', '--mqtt-url', authBroker.url, '--influx-url', NO_INFLUX, '--influx-db', 'makerdeck'];
    args.push('--mqtt-user', 'makerdeck', '--mqtt-password');
    const result = await runCli(args, env, { input: `${secret}\n` });
    expect(result.code, result.stderr).toBe(0);
  };

  it('makes telemetry tail say so in one line and exit 3 (and connect with the right password)', async () => {
    const env = { ...keyring.env, MAKERDECK_DATA_DIR: path.join(authDir, 'cli-data') };
    await attach(env, 'not-the-password');
    const text = await runCli(['telemetry', 'tail'], env, { timeoutMs: 20_000 });
    expect(text.code, text.stderr).toBe(3);
    const connecting = /^broker mqtt:\/\/127\.0\.0\.1:\d+: connecting$/;
    const errors = text.stderr
      .trim()
      .split('\n')
      .filter((line) => !connecting.test(line));
    expect(errors).toEqual([`makerdeck: The broker refused the login (not authorized): ${CHECK_LOGIN}`]);
    expect(text.stdout).toBe('');

    const json = await runCli(['telemetry', 'tail', '--json'], env, { timeoutMs: 20_000 });
    expect(json.code, json.stderr).toBe(3);
    const message = `The broker refused the login (not authorized): ${CHECK_LOGIN}`;
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'UNAVAILABLE', message } });
    expect(`${text.stdout}${text.stderr}${json.stdout}${json.stderr}`).not.toContain('not-the-password');

    await attach(env, password);
    const tailEnv = { ...process.env, ...env };
    const good = spawn(process.execPath, [MAKERDECK, 'telemetry', 'tail', '--json'], { env: tailEnv, stdio: PIPES });
    let stderr = '';
    good.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => good.once('exit', resolve));
    await until('tail connected with the right password', () => stderr.includes(': connected'));
    good.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);

  it('has the telemetry service retry 1 s doubling to 30 s, as counted at a TCP proxy', async () => {
    const attempts: number[] = [];
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      attempts.push(Date.now());
      const upstream = net.connect(authBroker.port, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => (sockets.delete(socket), client.destroy(), upstream.destroy()));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const serviceStates: TelemetryState[] = [];
    // The long-running hosts' telemetry service; its environment is a fixed stand-in (broker URL and
    // login) rather than settings and the keychain.
    const endpoints = {
      kind: 'attached' as const,
      mqtt: { url, username: 'makerdeck', password: 'not-the-password' },
      influx: { url: NO_INFLUX, database: 'makerdeck', username: '' },
    };
    const telemetry = new TelemetryService({
      environments: { endpoints: async () => endpoints },
      monitor: { open: () => Promise.reject(new Error('no serial port in this test')), close: async () => undefined },
      batch: () => undefined,
      state: (state) => serviceStates.push(state),
    });
    try {
      await telemetry.connect();
      await until('7 connection attempts', () => attempts.length >= 7, 80_000);
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
      console.info(`reconnect attempts after a refused login, gaps at the proxy: ${gaps.join(', ')} ms`);
      const expected = [1000, 2000, 4000, 8000, 16_000, 30_000];
      gaps.slice(0, 6).forEach((gap, i) => {
        expect(gap, `gap ${i + 1}: ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual(expected[i]! - 50);
        expect(gap, `gap ${i + 1}: ${gaps.join(', ')} ms`).toBeLessThan(expected[i]! + 2000);
      });
      const said = serviceStates.filter((s) => s.broker.state === 'reconnecting').map((s) => s.broker.message!);
      expect(said.slice(0, 6).map((m) => Number(/retrying in (\d+) s$/.exec(m)?.[1]))).toEqual([1, 2, 4, 8, 16, 30]);
      const refused = `The broker refused the login (not authorized): ${CHECK_LOGIN}`;
      expect(said.every((m) => m.startsWith(refused))).toBe(true);
      const reconnecting = serviceStates.filter((s) => s.broker.state === 'reconnecting');
      expect(reconnecting.every((s) => s.broker.loginRefused === true)).toBe(true);
    } finally {
      await telemetry.close();
      proxy.close();
      for (const socket of sockets) socket.destroy();
    }
  }, 100_000);
});

function expectBuiltInsUntouched(): void {
  expect({}.constructor).toBe(Object);
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  expect(Object.prototype.toString).toBe(builtIns.toString);
  expect(Object.prototype.hasOwnProperty).toBe(builtIns.hasOwnProperty);
  expect(Object.prototype.valueOf).toBe(builtIns.valueOf);
  expect(String({})).toBe('[object Object]');
  for (const probe of [{}, Object, Object.prototype, builtIns.toString, builtIns.hasOwnProperty]) {
    expect(['t', 'v', 'x', 'y', 'field'].filter((key) => key in probe)).toEqual([]);
  }
}

/** RFC 4180: quoted cells with "" escapes and line breaks inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows;
}
