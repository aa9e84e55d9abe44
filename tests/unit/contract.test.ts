import { describe, expect, it } from 'vitest';
import { eventNames, requestNames, requests } from '../../electron/contract';
import { COMMANDS } from '../../electron/cli/index';
import { createHost } from '../../electron/core/host';

describe('the API contract', () => {
  const host = createHost({ kind: 'cli', quiet: true });

  it('serves every declared request and nothing undeclared', () => {
    expect(Object.keys(host.handlers).sort()).toEqual([...requestNames].sort());
  });

  it('has a summary for every request and event', () => {
    for (const name of requestNames) expect(requests[name].summary.length, name).toBeGreaterThan(10);
    expect(eventNames).toContain('log');
    expect(eventNames).toContain('doctor.check');
  });

  it('reaches every declared request through the dispatcher (none answers UNKNOWN_METHOD)', async () => {
    for (const name of requestNames) {
      const reply = await host.call(name, { definitely_not_an_argument: true });
      expect(reply.ok, name).toBe(false);
      if (!reply.ok) expect(reply.error.code, name).toBe('BAD_INPUT');
    }
  });

  it('gives every CLI command a unique name', () => {
    const names = COMMANDS.map((command) => command.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['doctor', 'serve']));
  });
});
