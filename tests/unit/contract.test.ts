import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  FIRMWARE_CHUNK_BYTES,
  SECRET_FIELDS,
  WS_MAX_FRAME_BYTES,
  eventNames,
  requestNames,
  requests,
} from '../../electron/contract';
import type { ClientFrame, RequestName } from '../../electron/contract';
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

  it('declares no field longer than a WebSocket frame carries; bulk data travels in chunks well under it', () => {
    const longest: Array<[string, number]> = [];
    const walk = (name: string, node: unknown): void => {
      if (Array.isArray(node)) return node.forEach((item) => walk(name, item));
      if (typeof node !== 'object' || node === null) return;
      const { maxLength } = node as { maxLength?: number };
      if (typeof maxLength === 'number') longest.push([name, maxLength]);
      for (const value of Object.values(node)) walk(name, value);
    };
    const schema = (name: RequestName) => z.toJSONSchema(requests[name].args, { io: 'input', unrepresentable: 'any' });
    for (const name of requestNames) walk(name, schema(name));
    expect(longest.length).toBeGreaterThan(20);
    const envelope = 4096; // {"type":"call","id":…,"name":…,"args":…} and the other, short fields
    for (const [name, maxLength] of longest) expect(maxLength, name).toBeLessThanOrEqual(WS_MAX_FRAME_BYTES - envelope);
    const chunk: ClientFrame = {
      type: 'call',
      id: Number.MAX_SAFE_INTEGER,
      name: 'firmware.uploadChunk',
      args: { uploadId: 'x'.repeat(64), offset: 2 ** 24, dataBase64: 'A'.repeat((FIRMWARE_CHUNK_BYTES / 3) * 4) },
    };
    expect(requests['firmware.uploadChunk'].args.safeParse(chunk.args).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThan(WS_MAX_FRAME_BYTES / 3);
  });

  it('gives every CLI command a unique name', () => {
    const names = COMMANDS.map((command) => command.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['doctor', 'serve']));
  });
});
