// Every request of the contract against hostile arguments, in process, with stand-in handlers that
// echo their parsed arguments (so a declared secret the redactor failed to learn would come back).
// tests/integration/requestFuzz.test.ts sends the same corpus to the real host and `makerdeck serve`.
import { describe, expect, it } from 'vitest';
import { requestNames, requests, type Handlers, type LogLine, type RequestName } from '../../electron/contract';
import { dispatch } from '../../electron/core/dispatch';
import { EventBus } from '../../electron/core/events';
import { createLogger } from '../../electron/core/log';
import { MIN_LEARNED_SECRET, Redactor } from '../../electron/core/secrets/redactor';
import { echoedSecrets, FUZZ_RANDOM_PER_REQUEST, fuzzSeed, parseArgs } from '../support/requestFuzz';
import { replyProblem, requestCorpus } from '../support/requestFuzz';
import { schemasAt } from '../support/schemas';

function standInHost() {
  const redactor = new Redactor();
  const bus = new EventBus(redactor);
  const logs: LogLine[] = [];
  bus.on('log', (line) => logs.push(line));
  const logger = createLogger(bus, redactor, 'fuzz', true);
  const echo = Object.fromEntries(requestNames.map((name) => [name, async (args: unknown) => args]));
  const call = (name: unknown, args: unknown) => dispatch(echo as Handlers, name, args, redactor, logger);
  return { redactor, logs, call };
}

/** The values of a request's declared secret fields in its (valid) arguments. */
function declaredSecrets(name: RequestName, argsJson: string | undefined): unknown[] {
  const args = requests[name].args.parse(parseArgs(argsJson));
  const field = (value: unknown, key: string) => (value as Record<string, unknown> | undefined)?.[key];
  const at = (path: string) => path.split('.').reduce<unknown>(field, args);
  return (requests[name].secrets ?? []).map(at);
}

describe('request fuzz, in process (stand-in handlers that echo their arguments)', () => {
  it('answers every hostile case of every request with a one-line {code,message}, echoing no secret', async () => {
    const seed = fuzzSeed();
    const corpus = requestCorpus(seed, FUZZ_RANDOM_PER_REQUEST);
    const host = standInHost();
    const problems: string[] = [];
    let crashes = 0;
    for (const fuzz of corpus) {
      try {
        const problem = replyProblem(fuzz, await host.call(fuzz.name, parseArgs(fuzz.argsJson)));
        if (problem) problems.push(`${fuzz.label}: ${problem}`);
      } catch (error) {
        crashes += 1;
        problems.push(`${fuzz.label}: dispatch threw ${String(error)}`);
      }
    }
    const fuzzed = new Set(corpus.map((fuzz) => fuzz.name).filter((name) => Object.hasOwn(requests, name)));
    const counts = `${fuzzed.size} requests fuzzed, ${corpus.length} cases, crashes: ${crashes}`;
    console.log(`request fuzz (in process, stand-in handlers): seed ${seed}, ${counts}`);
    expect(problems.slice(0, 10), `seed ${seed}`).toEqual([]);
    expect(crashes).toBe(0);
    expect(fuzzed.size).toBe(requestNames.length);

    // Only the declared secret fields of accepted requests were learned: no flood, no poisoning.
    const declared = corpus
      .filter((fuzz) => fuzz.valid)
      .flatMap((fuzz) => declaredSecrets(fuzz.name as RequestName, fuzz.argsJson))
      .filter((value) => typeof value === 'string' && value.length >= MIN_LEARNED_SECRET);
    expect(host.redactor.stats().learned).toBe(new Set(declared).size);
    expect(echoedSecrets(corpus, JSON.stringify(host.logs))).toEqual([]);
    expect(await host.call('app.info', {})).toEqual({ ok: true, value: {} });
  });

  it('covers every declared secret path with a refused case (the corpus follows the contract)', () => {
    const corpus = requestCorpus(fuzzSeed(), 0);
    // The echo check finds a secret however it is decorated (lone surrogates, control characters).
    const sent = corpus.flatMap((fuzz) => fuzz.secrets).filter((secret) => /[\uD800-\uDFFF\u0000]/.test(secret));
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(echoedSecrets(corpus, JSON.stringify({ echoed: sent.slice(0, 3) }))).toEqual(sent.slice(0, 3));
    for (const name of requestNames) {
      for (const path of requests[name].secrets ?? []) {
        expect(schemasAt(requests[name].args, path).length, `${name}: ${path}`).toBeGreaterThan(0);
        const refused = corpus.filter((fuzz) => fuzz.name === name && fuzz.label.includes(`declared secret ${path}`));
        expect(refused.map((fuzz) => fuzz.valid)).toEqual([false]);
      }
    }
  });

  it('never rejects for names and arguments no JSON transport can send', async () => {
    const host = standInHost();
    const trap = () => {
      throw new Error('trap');
    };
    const throwing = new Proxy({}, { get: trap, ownKeys: trap, has: trap, getOwnPropertyDescriptor: trap });
    const cyclic: Record<string, unknown> = { ref: 'x' };
    cyclic.self = cyclic;
    const names: unknown[] = [undefined, null, 42, Number.NaN, {}, [], { toString: 1 }, { toString: trap }];
    names.push(Symbol('x'), 10n, () => 1, throwing);
    const args: unknown[] = [throwing, cyclic, 10n, Symbol('y'), () => 1, { ref: throwing }, new Date()];
    args.push(new Map([['ref', 'x']]));
    for (const name of names) {
      expect(await host.call(name, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    }
    for (const name of requestNames) {
      for (const value of args) {
        // A Date or a Map can pass for an empty object; whatever the answer, it is a Reply.
        const reply = await host.call(name, value);
        if (!reply.ok) expect(['BAD_INPUT', 'INTERNAL'], name).toContain(reply.error.code);
        else expect(Object.keys(reply), name).toEqual(['ok', 'value']);
      }
    }
    // An INTERNAL one (the throwing proxy) logs one line for pages, no stack.
    expect(host.logs.every((line) => !line.message.includes('\n') && !/\s+at\s/.test(line.message))).toBe(true);
  });
});
