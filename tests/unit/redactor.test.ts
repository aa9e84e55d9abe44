import { describe, expect, it } from 'vitest';
import { formsOf, MAX_LEARNED_CHARS, MAX_LEARNED_SECRETS } from '../../electron/core/secrets/redactor';
import { MIN_LEARNED_SECRET, Redactor } from '../../electron/core/secrets/redactor';

describe('Redactor', () => {
  const secret = 'p@ss word/ü+1';

  it('masks the raw, URL-encoded, JSON-escaped and base64 forms', () => {
    const redactor = new Redactor();
    redactor.add(secret);
    const forms = [
      secret,
      encodeURIComponent(secret),
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret).toString('base64url'),
      JSON.stringify(secret),
    ];
    for (const form of forms) {
      const out = redactor.redact(`before ${form} after`);
      expect(out).not.toContain(form.replace(/^"|"$/g, ''));
      expect(out).toContain('••••');
      expect(out.startsWith('before ')).toBe(true);
    }
  });

  it('masks inside nested values without changing the original', () => {
    const redactor = new Redactor();
    redactor.add('hunter22');
    const value = { a: ['x hunter22 y', { b: 'hunter22' }], n: 3 };
    const safe = redactor.redactDeep(value);
    expect(JSON.stringify(safe)).not.toContain('hunter22');
    expect(safe.n).toBe(3);
    expect(value.a[0]).toBe('x hunter22 y');
  });

  it('masks a secret that contains another one whole, and stops masking after remove', () => {
    const redactor = new Redactor();
    redactor.add('abc');
    redactor.add('xxabcxx');
    expect(redactor.redact('xxabcxx')).toBe('••••');
    redactor.remove('xxabcxx');
    redactor.remove('abc');
    expect(redactor.redact('xxabcxx')).toBe('xxabcxx');
  });

  it('ignores empty secrets', () => {
    const redactor = new Redactor();
    redactor.add('');
    expect(redactor.redact('plain')).toBe('plain');
  });
});

describe('Redactor under hostile input', () => {
  it('never throws on lone surrogates, and masks such a secret raw, JSON-escaped and as its UTF-8 bytes', () => {
    const redactor = new Redactor();
    const secret = 'pass\uD800word';
    expect(() => redactor.add(secret)).not.toThrow();
    expect(() => redactor.learn('\uDC00lone-low')).not.toThrow();
    expect(formsOf(secret)).toContain(encodeURIComponent('pass\uFFFDword'));
    expect(redactor.redact(`a ${secret} b`)).toBe('a •••• b');
    expect(redactor.redact(JSON.stringify({ pw: secret }))).not.toContain('\\ud800word');
    expect(redactor.redact(`x ${Buffer.from(secret).toString('base64')} y`)).toBe('x •••• y');
    expect(redactor.redact('pass\uFFFDword')).toBe('••••'); // as it reads after a trip through UTF-8
    expect(redactor.redact('\uD800\uDC00\uDFFF')).toBe('\uD800\uDC00\uDFFF');
    // Still learning and masking afterwards: one bad value does not poison the rest.
    redactor.add('next-secret');
    expect(redactor.redact('next-secret')).toBe('••••');
  });

  it(`learns request secrets of at least ${MIN_LEARNED_SECRET} characters; the app's own at any length`, () => {
    const redactor = new Redactor();
    expect(redactor.learn('e')).toBe(true);
    expect(redactor.learn('abc')).toBe(true);
    expect(redactor.redact('the abc of e')).toBe('the abc of e');
    redactor.add('xy');
    expect(redactor.redact('a xy b')).toBe('a •••• b');
    expect(redactor.learn('abcd')).toBe(true);
    expect(redactor.redact('abcd')).toBe('••••');
    expect(redactor.stats()).toMatchObject({ held: 1, learned: 1, learnedChars: 4 });
  });

  it('refuses learned secrets beyond its budget and never forgets one it learned', () => {
    const redactor = new Redactor();
    const secrets = Array.from({ length: MAX_LEARNED_SECRETS }, (_, i) => `request-secret-${i}`);
    for (const secret of secrets) expect(redactor.learn(secret)).toBe(true);
    expect(redactor.learn('one-too-many')).toBe(false);
    expect(redactor.learn(secrets[0]!)).toBe(true); // known: nothing new to hold
    const text = `${secrets[0]} ${secrets.at(-1)} one-too-many`;
    expect(redactor.redact(text)).toBe('•••• •••• one-too-many');
    // Held secrets (the keychain's) are not limited by the request budget.
    redactor.add('stored-in-keychain');
    expect(redactor.redact('stored-in-keychain')).toBe('••••');
    // A learned secret later stored in the keychain stays counted: requests cannot grow the held set.
    redactor.add(secrets[1]!);
    expect(redactor.stats()).toMatchObject({ held: 1, learned: MAX_LEARNED_SECRETS });
  });

  it('caps the characters learned from requests', () => {
    const redactor = new Redactor();
    const long = 'L'.repeat(1024);
    let learned = 0;
    while (redactor.learn(`${learned}-${long}`)) learned += 1;
    expect(learned).toBe(Math.floor(MAX_LEARNED_CHARS / (long.length + 2)));
    expect(redactor.stats().learnedChars).toBeLessThanOrEqual(MAX_LEARNED_CHARS);
  });

  it('keeps a __proto__ key a key when copying', () => {
    const redactor = new Redactor();
    redactor.add('hunter22');
    const value = JSON.parse('{"__proto__":{"pw":"hunter22"},"n":1}') as Record<string, unknown>;
    const safe = redactor.redactDeep(value);
    expect(Object.keys(safe)).toEqual(['__proto__', 'n']);
    expect(JSON.stringify(safe)).toBe('{"__proto__":{"pw":"••••"},"n":1}');
    expect(Object.getPrototypeOf(safe)).toBe(Object.prototype);
  });

  it('holds the worst-case budget in a bounded trie (nodes per learned character)', () => {
    const redactor = new Redactor();
    // Characters that URL-encode to 9 bytes and JSON-escape to 6: the most trie per character.
    const worst = (i: number) => `${String.fromCharCode(0x4e00 + i)}\u0001${'€'.repeat(126)}`;
    for (let i = 0; redactor.learn(worst(i)); i++);
    const { learned, learnedChars, nodes } = redactor.stats();
    expect(learned * 128).toBe(learnedChars);
    expect(nodes / learnedChars).toBeLessThan(30);
  });
});
