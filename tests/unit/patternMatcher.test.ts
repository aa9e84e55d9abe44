import { describe, expect, it } from 'vitest';
import { PatternMatcher } from '../../electron/core/secrets/patternMatcher';
import { seededRandom } from '../support/fuzz';

/** The obvious way: mark every occurrence of every pattern, then mask each run of overlapping ones. */
function naive(text: string, patterns: string[], mask: string): string {
  const spans: Array<[number, number]> = [];
  for (const pattern of patterns) {
    for (let at = text.indexOf(pattern); at !== -1; at = text.indexOf(pattern, at + 1)) {
      spans.push([at, at + pattern.length]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const runs: Array<[number, number]> = [];
  for (const [start, stop] of spans) {
    const last = runs[runs.length - 1];
    if (last && start < last[1]) last[1] = Math.max(last[1], stop);
    else runs.push([start, stop]);
  }
  let out = '';
  let from = 0;
  for (const [start, stop] of runs) {
    out += text.slice(from, start) + mask;
    from = stop;
  }
  return out + text.slice(from);
}

describe('PatternMatcher (Aho-Corasick)', () => {
  it('masks exactly what a naive search masks, on random patterns and texts over a small alphabet', () => {
    const random = seededRandom(20240610);
    const letter = () => 'ab\uD800c'[Math.floor(random() * 4)];
    const word = (max: number) => Array.from({ length: 1 + Math.floor(random() * max) }, letter).join('');
    for (let round = 0; round < 300; round++) {
      const patterns = Array.from({ length: 1 + Math.floor(random() * 12) }, () => word(6));
      const matcher = new PatternMatcher();
      const text = word(80);
      // Half the rounds add patterns between searches, as the redactor does.
      patterns.forEach((pattern, i) => {
        matcher.add(pattern);
        if (round % 2 === 0) {
          expect(matcher.replace(text, '*'), `round ${round}`).toBe(naive(text, patterns.slice(0, i + 1), '*'));
        }
      });
      const input = JSON.stringify({ patterns, text });
      expect(matcher.replace(text, '*'), `round ${round}: ${input}`).toBe(naive(text, patterns, '*'));
    }
  });

  it('returns the same string when nothing matches, and ignores an empty pattern', () => {
    const matcher = new PatternMatcher();
    matcher.add('');
    expect(matcher.size).toBe(1);
    matcher.add('secret');
    const text = 'nothing to see';
    expect(matcher.replace(text, '*')).toBe(text);
    expect(matcher.replace('a secretsecret b', '*')).toBe('a ** b');
  });

  it('grows past its initial tables', () => {
    const matcher = new PatternMatcher();
    const patterns = Array.from({ length: 2000 }, (_, i) => `pw-${i.toString(36)}-${(i * 7919).toString(36)}`);
    for (const pattern of patterns) matcher.add(pattern);
    expect(matcher.size).toBeGreaterThan(2000);
    expect(matcher.replace(`x ${patterns[1999]} y ${patterns[0]}`, '*')).toBe('x * y *');
  });
});
