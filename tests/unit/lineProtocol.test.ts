import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseEscaped, parseLineProtocol, plotValues } from '../../electron/core/lineProtocol';

describe('line protocol parser', () => {
  it("parses the firmware's telemetry line", () => {
    expect(parseLineProtocol('telemetry,device=bench-1 seq=42i,a0=512i,chip_temp_c=23.50')).toEqual({
      ok: true,
      point: {
        measurement: 'telemetry',
        tags: new Map([['device', 'bench-1']]),
        fields: new Map([
          ['seq', 42],
          ['a0', 512],
          ['chip_temp_c', 23.5],
        ]),
        integers: new Set(['seq', 'a0']),
        timestamp: undefined,
      },
    });
  });

  it('handles escapes, strings, booleans, unsigned and a timestamp', () => {
    const result = parseLineProtocol(
      'my\\ room,place=lab\\,1,kind=a\\=b note="say \\"hi\\", ok",on=t,off=false,n=7u,x=-1.5e3 1700000000000000000',
    );
    expect(result).toEqual({
      ok: true,
      point: {
        measurement: 'my room',
        tags: new Map([
          ['place', 'lab,1'],
          ['kind', 'a=b'],
        ]),
        fields: new Map<string, unknown>([
          ['note', 'say "hi", ok'],
          ['on', true],
          ['off', false],
          ['n', 7],
          ['x', -1500],
        ]),
        integers: new Set(['n']),
        timestamp: '1700000000000000000',
      },
    });
  });

  it.each([
    ['', 'no measurement'],
    ['telemetry', 'no fields'],
    ['telemetry,device', 'a tag without a value'],
    ['telemetry,device= a=1', 'tag device has an empty value'],
    ['telemetry a', 'a field without a value'],
    ['telemetry a=zz', 'field a has an invalid value'],
    ['telemetry a="open', 'field a has an unterminated string'],
    ['telemetry a=1 notanumber', 'the timestamp is not an integer'],
    ['telemetry a=1e999', 'field a has an invalid value'],
  ])('rejects %j: %s', (line, reason) => {
    expect(parseLineProtocol(line)).toEqual({ ok: false, reason });
  });

  it('never throws on random, binary or huge input (fuzz, 20,000 cases)', () => {
    const alphabet = 'telmry,=\\" 0123456789.iutf-e\n\u0000\uffff';
    for (let i = 0; i < 20_000; i++) {
      const bytes = randomBytes(1 + (i % 80));
      const line = i % 2 ? bytes.toString('latin1') : Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
      const result = parseLineProtocol(line);
      expect(typeof result.ok).toBe('boolean');
      plotValues(line);
    }
    expect(parseLineProtocol('t a=1' + ',b=1'.repeat(20_000)).ok).toBe(false);
  });

  it('takes plot values from telemetry lines and from name:value pairs', () => {
    expect(plotValues('telemetry,device=d a0=5i,temp=21.5,label="x",on=t')).toEqual({ a0: 5, temp: 21.5 });
    expect(plotValues('temp:21.5 humidity=40 light: 300')).toEqual({ temp: 21.5, humidity: 40, light: 300 });
    expect(plotValues('booting...')).toBeUndefined();
  });
});

describe('field types', () => {
  // Line protocol: 21 and 21.0 are floats, 21i an integer (21u unsigned); InfluxDB keeps a field's
  // first type and refuses points of another, so the type is part of what a device sent.
  it.each([
    ['telemetry x=21', []],
    ['telemetry x=21.0', []],
    ['telemetry x=2e3', []],
    ['telemetry x=21i', ['x']],
    ['telemetry x=21u', ['x']],
    ['telemetry x=-3i,y=1.5,z=t,s="4i"', ['x']],
    ['telemetry x=1i,x=1.5', []], // a repeated field: the last value counts
    ['telemetry x=1.5,x=1i', ['x']],
  ])('%s: integer fields %j', (line, integers) => {
    const result = parseLineProtocol(line);
    expect(result.ok).toBe(true);
    expect([...((result.ok && result.point.integers) || [])]).toEqual(integers);
    // the full scanner (escapes and strings) agrees with the fast path
    const escaped = parseEscaped(line);
    expect([...((escaped.ok && escaped.point.integers) || [])]).toEqual(integers);
  });
});
