// The one redactor: every path that prints or forwards text (logs, CLI output, error messages,
// event streams, the serial monitor) passes it through here, so a secret value never leaves the
// process in any form we can recognise.

const MASK = '••••';

function formsOf(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    JSON.stringify(secret).slice(1, -1),
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
  ];
}

export class Redactor {
  private readonly secrets = new Set<string>();
  /** Longest first, so a secret that contains another is masked whole. */
  private patterns: string[] = [];

  add(secret: string): void {
    // Every non-empty value is masked, even a short one: a leak is worse than an ugly log line.
    if (secret.length === 0 || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    this.rebuild();
  }

  remove(secret: string): void {
    if (this.secrets.delete(secret)) this.rebuild();
  }

  redact(text: string): string {
    let out = text;
    for (const pattern of this.patterns) {
      if (out.includes(pattern)) out = out.split(pattern).join(MASK);
    }
    return out;
  }

  /** Redacts every string inside a JSON-like value, returning a copy. */
  redactDeep<T>(value: T): T {
    if (this.patterns.length === 0) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redact(value);
    // Telemetry batches are long arrays of numbers: nothing in them to redact, so no copy.
    if (Array.isArray(value)) return value.every((item) => typeof item === 'number') ? value : value.map((item) => this.walk(item));
    if (value !== null && typeof value === 'object') {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) copy[key] = this.walk(item);
      return copy;
    }
    return value;
  }

  private rebuild(): void {
    const all = new Set<string>();
    for (const secret of this.secrets) for (const form of formsOf(secret)) if (form) all.add(form);
    this.patterns = [...all].sort((a, b) => b.length - a.length);
  }
}
