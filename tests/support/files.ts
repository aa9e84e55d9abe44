import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Every file under dir with its bytes, for "nothing changed" and "no secret anywhere" checks. The
 * log folder (`logs/`, which any command may append to) is left out unless `includeLogs`: a scan for
 * secrets passes it, a "nothing changed" check does not.
 */
export function snapshot(dir: string, { includeLogs = false } = {}): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (!existsSync(dir)) return files;
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const full = path.join(current, name);
      if (!includeLogs && current === dir && name === 'logs') continue;
      if (statSync(full).isDirectory()) walk(full);
      else files.set(path.relative(dir, full), readFileSync(full));
    }
  };
  walk(dir);
  return files;
}

/** The forms of a secret the redactor must mask: raw, URL-encoded and base64. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
    ]),
  ];
}

/** Names each secret form found in the text, with where it was found. */
export function findSecrets(where: string, text: string | Buffer, secrets: string[]): string[] {
  const haystack = Buffer.isBuffer(text) ? text.toString('latin1') + text.toString('utf8') : text;
  return secrets.flatMap((secret) =>
    secretForms(secret)
      .filter((form) => haystack.includes(form))
      .map((form) => `${where}: contains ${form === secret ? 'a secret' : 'an encoded secret'}`),
  );
}

/** What the real Secret Service holds, read with libsecret's own tool. */
export function secretToolLookup(account: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    return execFileSync('secret-tool', ['lookup', 'service', 'makerdeck', 'username', account], {
      env,
      encoding: 'utf8',
    });
  } catch {
    return undefined;
  }
}
