import { describe, expect, it } from 'vitest';
import { MakerdeckError, type Handlers } from '../../electron/contract';
import { dispatch } from '../../electron/core/dispatch';
import { EventBus } from '../../electron/core/events';
import { createLogger } from '../../electron/core/log';
import { Redactor } from '../../electron/core/secrets/redactor';

function setup(handlers: Partial<Handlers>) {
  const redactor = new Redactor();
  const bus = new EventBus(redactor);
  const logs: string[] = [];
  bus.on('log', (line) => logs.push(line.message));
  const logger = createLogger(bus, redactor, 'test', true);
  return { redactor, logs, call: (name: unknown, args: unknown) => dispatch(handlers as Handlers, name, args, redactor, logger) };
}

describe('dispatch', () => {
  it('refuses an undeclared request with UNKNOWN_METHOD', async () => {
    const { call } = setup({});
    expect(await call('shell.exec', {})).toEqual({ ok: false, error: { code: 'UNKNOWN_METHOD', message: expect.stringContaining('shell.exec') } });
    expect((await call('__proto__', {})).ok).toBe(false);
    expect((await call(42, {})).ok).toBe(false);
  });

  it('rejects bad arguments in one line naming the field', async () => {
    const { call } = setup({ 'doctor.run': async () => ({ checks: [], status: 'ok', startedAt: '', durationMs: 0 }) });
    const reply = await call('doctor.run', { only: ['docker', 'toaster'] });
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('BAD_INPUT');
    expect(reply.error.message).toMatch(/only\.1/);
    expect(reply.error.message).not.toContain('\n');
  });

  it('passes defaults through: doctor.run with no arguments is valid', async () => {
    const { call } = setup({ 'doctor.run': async (args) => ({ checks: [], status: 'ok', startedAt: JSON.stringify(args), durationMs: 0 }) });
    const reply = await call('doctor.run', undefined);
    expect(reply).toMatchObject({ ok: true, value: { startedAt: '{}' } });
  });

  it('keeps a MakerdeckError code and message, redacted, on one line', async () => {
    const { call, redactor } = setup({
      'app.info': async () => {
        throw new MakerdeckError('UNAVAILABLE', 'broker refused password s3cr3t-pw\nretry later');
      },
    });
    redactor.add('s3cr3t-pw');
    const reply = await call('app.info', {});
    expect(reply).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: 'broker refused password •••• retry later' } });
  });

  it('hides an unexpected error\'s stack from the caller and logs it redacted', async () => {
    const { call, redactor, logs } = setup({
      'app.info': async () => {
        throw new TypeError('cannot read token abcd-secret');
      },
    });
    redactor.add('abcd-secret');
    const reply = await call('app.info', {});
    expect(reply).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'app.info failed unexpectedly; details are in the log' } });
    expect(logs.join('\n')).toContain('TypeError');
    expect(logs.join('\n')).not.toContain('abcd-secret');
  });

  it('redacts secrets in results and events', async () => {
    const { call, redactor } = setup({ 'app.info': async () => ({ name: 'pw=topsecret', version: '1', host: 'cli', platform: 'x', arch: 'y' }) });
    redactor.add('topsecret');
    const reply = await call('app.info', {});
    expect(JSON.stringify(reply)).not.toContain('topsecret');
  });
});
