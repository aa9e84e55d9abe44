// The online check's reading of a payload: a point counts only under the board's own id, parsed by
// the one line-protocol parser; broker addresses and connect errors in a few words.
import { describe, expect, it } from 'vitest';
import { explain, hasOwnPoint, hostOf, telemetryTopic } from '../../electron/core/lab/telemetryWatch';

const own = (payload: string) => hasOwnPoint('lab3-07', Buffer.from(payload));

describe('hasOwnPoint', () => {
  it('takes a point under the id, alone or among other lines', () => {
    expect(own('telemetry,device=lab3-07 t=21.5')).toBe(true);
    expect(own('telemetry,device=lab3-07 t=21.5 1733400000000000000\r\n')).toBe(true);
    expect(own('garbage\n\ntelemetry,device=lab3-07 counter=1i')).toBe(true);
  });

  it('refuses another id, no id, a prefix of the id and malformed lines', () => {
    expect(own('telemetry,device=lab3-08 t=21.5')).toBe(false);
    expect(own('telemetry,device=lab3-0 t=21.5')).toBe(false);
    expect(own('telemetry,device=lab3-07x t=21.5')).toBe(false);
    expect(own('telemetry t=21.5')).toBe(false);
    expect(own('telemetry,device=lab3-07')).toBe(false);
    expect(own('telemetry,device=lab3-07 t=')).toBe(false);
    expect(own('\u0000\u00ff binary')).toBe(false);
    expect(own('')).toBe(false);
  });

  it('reads at most 64 lines of a payload', () => {
    expect(own(`${'x\n'.repeat(64)}telemetry,device=lab3-07 t=1`)).toBe(false);
    expect(own(`${'x\n'.repeat(63)}telemetry,device=lab3-07 t=1`)).toBe(true);
  });
});

describe('broker wording', () => {
  it('names the topic, the host and the reason', () => {
    expect(telemetryTopic('lab3-07')).toBe('makerdeck/lab3-07/telemetry');
    expect(hostOf('mqtt://127.0.0.1:1883')).toBe('127.0.0.1:1883');
    expect(hostOf('mqtts://broker.school.example')).toBe('broker.school.example');
    expect(hostOf('not a url')).toBe('not a url');
    expect(explain(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      'connection refused',
    );
    expect(explain(new Error('connack timeout'))).toBe('no answer to the connect');
    expect(explain(Object.assign(new Error('Connection refused: Not authorized'), { code: 5 }))).toMatch(
      /^it refused the login/,
    );
    expect(explain(new Error('something else\nand more'))).toBe('something else');
  });
});
