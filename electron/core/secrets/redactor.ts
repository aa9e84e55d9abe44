// The one redactor: every path that prints or forwards text (logs, CLI output, error messages,
// event streams, the serial monitor) passes it through here, so a secret value never leaves the
// process in any form we can recognise.
//
// Two kinds of secret: those the app holds (keychain values, decrypted imports; bounded by what the
// keychain stores, masked at any length) and those learned from requests' declared secret fields,
// which any client can send: those have a minimum length and a budget, so no client can make the
// redactor mask one letter everywhere or grow without bound. Nothing is ever evicted: a secret
// still in use must stay masked, so a request that would go over the budget is refused instead
// (until the app restarts, which reloads the stored ones from the keychain as held).
import { PatternMatcher } from './patternMatcher';

const MASK = '••••';

/** Shorter request values are not learned: masking 1-3 characters garbles every line and hides nothing. */
export const MIN_LEARNED_SECRET = 4;
/** At most this many distinct secrets learned from requests (a session uses a handful)... */
export const MAX_LEARNED_SECRETS = 256;
/** ...and at most this many characters of them together. */
export const MAX_LEARNED_CHARS = 32 * 1024;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with each lone surrogate replaced by U+FFFD, as a UTF-8 encoder writes it. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** How a secret can appear in output: raw, URL-encoded, JSON-escaped, base64. Never throws. */
export function formsOf(secret: string): string[] {
  const utf8 = wellFormed(secret);
  const bytes = Buffer.from(utf8, 'utf8');
  const url = encodeURIComponent(utf8);
  return [
    ...new Set([
      secret,
      utf8,
      url,
      url.replace(/%20/g, '+'),
      JSON.stringify(secret).slice(1, -1),
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
    ]),
  ].filter((form) => form.length > 0);
}

export class Redactor {
  private readonly held = new Set<string>();
  private readonly learned = new Set<string>();
  private learnedChars = 0;
  private matcher = new PatternMatcher();
  /** Set by remove(): the matcher is rebuilt from the remaining secrets on the next redact. */
  private stale = false;

  /**
   * A secret the app holds (read from or written to the keychain): masked whatever its length. One
   * already learned from a request stays counted as learned, so requests cannot grow the held set.
   */
  add(secret: string): void {
    if (typeof secret !== 'string' || secret.length === 0) return;
    if (this.held.has(secret) || this.learned.has(secret)) return;
    this.held.add(secret);
    this.insert(secret);
  }

  /**
   * A secret from a request's declared secret field. Values under MIN_LEARNED_SECRET are ignored;
   * returns false, learning nothing, when the budget is spent (the caller must then refuse the request).
   */
  learn(secret: string): boolean {
    if (typeof secret !== 'string' || secret.length < MIN_LEARNED_SECRET) return true;
    if (this.held.has(secret) || this.learned.has(secret)) return true;
    const full = this.learned.size >= MAX_LEARNED_SECRETS || this.learnedChars + secret.length > MAX_LEARNED_CHARS;
    if (full) return false;
    this.learned.add(secret);
    this.learnedChars += secret.length;
    this.insert(secret);
    return true;
  }

  remove(secret: string): void {
    if (this.learned.delete(secret)) this.learnedChars -= secret.length;
    else if (!this.held.delete(secret)) return;
    this.stale = true;
  }

  /** What the redactor holds, for diagnostics and the bounds test. */
  stats(): { held: number; learned: number; learnedChars: number; nodes: number } {
    this.refresh();
    const { held, learned, learnedChars, matcher } = this;
    return { held: held.size, learned: learned.size, learnedChars, nodes: matcher.size };
  }

  redact(text: string): string {
    if (typeof text !== 'string') return text;
    this.refresh();
    return this.matcher.replace(text, MASK);
  }

  /** Redacts every string inside a JSON-like value, returning a copy. */
  redactDeep<T>(value: T): T {
    if (this.held.size + this.learned.size === 0) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redact(value);
    // Telemetry batches are long arrays of numbers: nothing in them to redact, so no copy.
    if (Array.isArray(value))
      return value.every((item) => typeof item === 'number') ? value : value.map((item) => this.walk(item));
    if (value !== null && typeof value === 'object') {
      const copy: Record<string, unknown> = {};
      // defineProperty: a key named __proto__ stays a key instead of replacing the copy's prototype.
      for (const [key, item] of Object.entries(value)) {
        const safe = this.walk(item);
        Object.defineProperty(copy, key, { value: safe, enumerable: true, writable: true, configurable: true });
      }
      return copy;
    }
    return value;
  }

  private insert(secret: string): void {
    for (const form of formsOf(secret)) this.matcher.add(form);
  }

  private refresh(): void {
    if (!this.stale) return;
    this.matcher = new PatternMatcher();
    for (const secret of [...this.held, ...this.learned]) this.insert(secret);
    this.stale = false;
  }
}
