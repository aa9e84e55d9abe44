import { describe, expect, it } from 'vitest';
import { SECRET_FIELDS, eventNames, requestNames, requests } from '../../electron/contract';
import { COMMANDS } from '../../electron/cli/index';
import { createHost } from '../../electron/core/host';
import { fieldsOf, kindOf, schemasAt } from '../support/schemas';

/** Field names that hold a secret: each must be declared in its request's `secrets`. */
const SECRET_NAME = /pass(word|phrase)|secret|token|api.?key|credential/i;

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

  it('declares secret fields that exist in the schema, as strings', () => {
    const declared = requestNames.flatMap((name) => (requests[name].secrets ?? []).map((path) => ({ name, path })));
    for (const { name, path } of declared) {
      const at = schemasAt(requests[name].args, path);
      expect(at.length, `${name}: ${path} is not in the schema`).toBeGreaterThan(0);
      expect(at.map(kindOf), `${name}: ${path}`).toEqual(at.map(() => 'string'));
    }
    expect(requests['profiles.save'].secrets).toEqual(SECRET_FIELDS.map((field) => `secrets.${field}`));
    expect(declared.length).toBeGreaterThanOrEqual(6);
  });

  it('declares every secret-named string field of every request', () => {
    const undeclared = requestNames.flatMap((name) =>
      fieldsOf(requests[name].args)
        .filter((field) => field.kind === 'string' && SECRET_NAME.test(field.path.split('.').at(-1)!))
        .filter((field) => !(requests[name].secrets ?? []).includes(field.path))
        .map((field) => `${name}: ${field.path}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('gives every CLI command a unique name', () => {
    const names = COMMANDS.map((command) => command.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['doctor', 'serve']));
  });
});
