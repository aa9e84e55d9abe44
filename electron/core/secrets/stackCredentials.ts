// Per-install credentials for the backing stack (admin passwords, tokens), generated at random
// and kept in the keychain under "stack/<name>" — never admin/admin, never in a file.
import { randomBytes } from 'node:crypto';
import { MakerdeckError } from '../../contract';
import type { Keychain } from './keychain';

const NAME = /^[a-z0-9][a-z0-9-]{0,47}$/;
export const STACK_ACCOUNT_PREFIX = 'stack/';

function account(name: string): string {
  if (!NAME.test(name)) throw new MakerdeckError('BAD_INPUT', `"${name}" is not a credential name: use lower-case letters, digits and -`);
  return STACK_ACCOUNT_PREFIX + name;
}

/** 32 random bytes, URL-safe: fits in env files, URLs and config syntax without quoting. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export class StackCredentials {
  constructor(private readonly keychain: Keychain) {}

  async get(name: string): Promise<string | undefined> {
    return this.keychain.get(account(name));
  }

  /** The stored credential, or a new random one stored now. */
  async ensure(name: string): Promise<string> {
    return (await this.get(name)) ?? this.rotate(name);
  }

  /** Replaces the credential with a new random value and returns it. */
  async rotate(name: string): Promise<string> {
    const value = generateSecret();
    await this.keychain.set(account(name), value);
    return value;
  }
}
