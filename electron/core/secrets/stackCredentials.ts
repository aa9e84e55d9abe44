// Per-install credentials for the backing stack (admin passwords, tokens), generated at random
// and kept in the data folder's part of the keychain under "stack/<name>" — never admin/admin,
// never in a file. Generating one holds the folder's lock, so two processes never make two.
import { randomBytes } from 'node:crypto';
import { MakerdeckError } from '../../contract';
import type { FolderLock } from '../settings/folderLock';
import { STACK_ACCOUNT_PREFIX } from './accounts';
import type { FolderKeychain } from './folderKeychain';

const NAME = /^[a-z0-9][a-z0-9-]{0,47}$/;

function account(name: string): string {
  if (!NAME.test(name))
    throw new MakerdeckError('BAD_INPUT', `"${name}" is not a credential name: use lower-case letters, digits and -`);
  return STACK_ACCOUNT_PREFIX + name;
}

/** 32 random bytes, URL-safe: fits in env files, URLs and config syntax without quoting. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export class StackCredentials {
  constructor(
    private readonly keychain: FolderKeychain,
    private readonly lock: FolderLock,
  ) {}

  /**
   * The folder's credential. A folder without one takes a copy of the entry an earlier Makerdeck
   * kept for every folder: the machine's stack (its volumes) was set up with that one.
   */
  async get(name: string): Promise<string | undefined> {
    const own = await this.keychain.get(account(name));
    if (own !== undefined || (await this.keychain.legacy(account(name))) === undefined) return own;
    return this.lock.hold(() => this.keychain.adoptLegacy(account(name)));
  }

  /** The stored credential, or a new random one stored now. */
  async ensure(name: string): Promise<string> {
    const existing = await this.get(name);
    if (existing !== undefined) return existing;
    return this.lock.hold(async () => (await this.keychain.get(account(name))) ?? this.store(name));
  }

  /** Replaces the credential with a new random value and returns it. */
  rotate(name: string): Promise<string> {
    return this.lock.hold(() => this.store(name));
  }

  private async store(name: string): Promise<string> {
    const value = generateSecret();
    await this.keychain.set(account(name), value);
    return value;
  }
}
