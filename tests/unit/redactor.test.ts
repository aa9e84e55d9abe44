import { describe, expect, it } from 'vitest';
import { Redactor } from '../../electron/core/secrets/redactor';

describe('Redactor', () => {
  const secret = 'p@ss word/ü+1';

  it('masks the raw, URL-encoded, JSON-escaped and base64 forms', () => {
    const redactor = new Redactor();
    redactor.add(secret);
    const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'), JSON.stringify(secret)];
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
