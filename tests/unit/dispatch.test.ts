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
  return {
    redactor,
    logs,
    call: (name: unknown, args: unknown) => dispatch(handlers as Handlers, name, args, redactor, logger),
  };
}

describe('dispatch', () => {
  it('refuses an undeclared request with UNKNOWN_METHOD', async () => {
    const { call } = setup({});
    expect(await call('shell.exec', {})).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_METHOD', message: expect.stringContaining('shell.exec') },
    });
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
    const { call } = setup({
      'doctor.run': async (args) => ({ checks: [], status: 'ok', startedAt: JSON.stringify(args), durationMs: 0 }),
    });
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
    expect(reply).toEqual({
      ok: false,
      error: { code: 'UNAVAILABLE', message: 'broker refused password •••• retry later' },
    });
  });

  it("hides an unexpected error's stack from the caller and logs it redacted", async () => {
    const { call, redactor, logs } = setup({
      'app.info': async () => {
        throw new TypeError('cannot read token abcd-secret');
      },
    });
    redactor.add('abcd-secret');
    const reply = await call('app.info', {});
    expect(reply).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: "app.info failed unexpectedly; details are on the host's stderr" },
    });
    expect(logs.join('\n')).toContain('TypeError');
    expect(logs.join('\n')).not.toContain('abcd-secret');
  });

  it('redacts secrets in results and events', async () => {
    const { call, redactor } = setup({
      'app.info': async () => ({
        name: 'pw=topsecret',
        version: '1',
        host: 'cli',
        platform: 'x',
        arch: 'y',
        logFile: 'z',
      }),
    });
    redactor.add('topsecret');
    const reply = await call('app.info', {});
    expect(JSON.stringify(reply)).not.toContain('topsecret');
  });
});

describe('dispatch and secrets', () => {
  const echoArgs = async (args: unknown) => args;
  const echo = { 'profiles.export': echoArgs, 'profiles.get': echoArgs } as unknown as Partial<Handlers>;

  it('learns only the declared secret fields of requests that passed validation', async () => {
    const { call, redactor } = setup(echo);
    const passphrase = 'correct horse battery';
    const reply = await call('profiles.export', { ref: 'bench', passphrase });
    expect(reply).toEqual({ ok: true, value: { ref: 'bench', passphrase: '••••' } });
    // Refused (unknown key): nothing learned, and the refusal does not quote the value.
    const refused = await call('profiles.export', { ref: 'bench', passphrase: 'refused-passphrase', extra: 1 });
    expect(JSON.stringify(refused)).not.toContain('refused-passphrase');
    // Secret-named keys outside the declared fields, at any depth, teach it nothing.
    await call('profiles.get', { ref: 'x', password: 'not-declared-1', nested: { passphrase: 'not-declared-2' } });
    await call('app.info', { items: Array.from({ length: 100 }, (_, i) => ({ password: `flood-${i}` })) });
    expect(redactor.stats()).toMatchObject({ learned: 1, held: 0 });
    const unlearned = 'refused-passphrase not-declared-1 flood-7';
    expect(redactor.redact(unlearned)).toBe(unlearned);
  });

  it('refuses a request whose new secret is over the budget, without running it', async () => {
    let ran = 0;
    const { call, redactor } = setup({
      'profiles.export': async () => (ran++, { fileName: 'x', content: '', encrypted: true }),
    });
    for (let i = 0; redactor.learn(`filler-secret-${i}`); i++);
    const reply = await call('profiles.export', { ref: 'bench', passphrase: 'one-more-passphrase' });
    expect(reply).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: expect.stringMatching(/restart it/) } });
    expect(ran).toBe(0);
    // A secret it already knows is fine.
    expect((await call('profiles.export', { ref: 'bench', passphrase: 'filler-secret-0' })).ok).toBe(true);
  });

  it('refuses arguments far larger or deeper than any request takes, before validating them', async () => {
    const { call } = setup({ 'doctor.run': async () => ({ checks: [], status: 'ok', startedAt: '', durationMs: 0 }) });
    const wide = await call('doctor.run', { only: Array.from({ length: 500_000 }, () => 'disk') });
    const limits = expect.stringMatching(/at most 10,000 values in 32 levels.*doctor\.run/);
    expect(wide).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: limits } });
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(await call('doctor.run', { only: deep })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await call('doctor.run', { only: ['disk'] })).toMatchObject({ ok: true });
  });

  it('sends one printable line of bounded length, whatever the message holds', async () => {
    const { call } = setup({
      'app.info': async () => {
        throw new MakerdeckError('NOT_FOUND', `No profile "${'\u001b[31m\r\n\u2028\uD800'.repeat(2000)}"`);
      },
    });
    const reply = await call('app.info', {});
    if (reply.ok) throw new Error('expected a refusal');
    expect(reply.error.code).toBe('NOT_FOUND');
    expect(reply.error.message.length).toBeLessThanOrEqual(1001);
    expect(reply.error.message).not.toMatch(/[\u0000-\u001f\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('unexpected errors', () => {
  it("send pages one log line and write the stack only to the host's stderr", async () => {
    const redactor = new Redactor();
    const bus = new EventBus(redactor);
    const events: string[] = [];
    bus.on('log', (line) => events.push(line.message));
    const logger = createLogger(bus, redactor, 'test', false);
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const failing = {
        'serial.list': async () => {
          throw new Error('udev went away');
        },
      } as unknown as Handlers;
      const reply = await dispatch(failing, 'serial.list', {}, redactor, logger);
      const message = "serial.list failed unexpectedly; details are on the host's stderr"; // a logger without a file
      expect(reply).toEqual({ ok: false, error: { code: 'INTERNAL', message } });
    } finally {
      process.stderr.write = write;
    }
    expect(events).toEqual(['serial.list failed: Error: udev went away']);
    expect(written.join('')).toMatch(/serial\.list failed: Error: udev went away \| Error: udev went away \| at /);
  });
});
