// One data folder's part of the keychain. Every account is prefixed with the folder's namespace —
// the first 12 hex digits of SHA-256 over the folder's real path — so two data folders (a second
// MAKERDECK_DATA_DIR, a portable install) never read, replace or delete each other's secrets:
// "bench/wifi-password" is stored as "3f9a1c2b7d4e/bench/wifi-password".
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { MakerdeckError } from '../../contract';
import type { Keychain, SecretStore } from './keychain';

/** The namespace of a data folder: stable across relative paths and symlinks to the same folder. */
export function keychainNamespace(dataDir: string): string {
  return createHash('sha256').update(realPath(dataDir)).digest('hex').slice(0, 12);
}

/** The real path, also for a folder not created yet (its nearest existing parent resolved). */
function realPath(dir: string): string {
  const absolute = path.resolve(dir);
  let existing = absolute;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  return path.join(realpathSync.native(existing), path.relative(existing, absolute));
}

export class FolderKeychain implements SecretStore {
  readonly namespace: string;

  constructor(
    readonly keychain: Keychain,
    dataDir: string,
  ) {
    this.namespace = keychainNamespace(dataDir);
  }

  /** The account as stored in the keychain. */
  stored(account: string): string {
    return `${this.namespace}/${account}`;
  }

  /** Resolves once the keychain is known to answer; rejects at once, in one line, when it cannot. */
  ready(): Promise<void> {
    return this.keychain.ready();
  }

  get(account: string): Promise<string | undefined> {
    return this.keychain.get(this.stored(account));
  }

  set(account: string, value: string): Promise<void> {
    return this.keychain.set(this.stored(account), value);
  }

  delete(account: string): Promise<boolean> {
    return this.keychain.delete(this.stored(account));
  }

  /** The entry an earlier Makerdeck kept under the bare account name, shared by every data folder. */
  legacy(account: string): Promise<string | undefined> {
    return this.keychain.get(account);
  }

  /**
   * Copies the entry an earlier Makerdeck kept without a namespace (shared by every data folder)
   * into this folder, unless this folder has its own already. The legacy entry stays: another
   * data folder may still need it. Resolves the folder's value afterwards.
   */
  async adoptLegacy(account: string): Promise<string | undefined> {
    const own = await this.get(account);
    if (own !== undefined) return own;
    const legacy = await this.legacy(account);
    if (legacy === undefined) return undefined;
    await this.set(account, legacy);
    if ((await this.get(account)) !== legacy) {
      const what = `The keychain did not keep the copy of ${account} for ${this.namespace}`;
      throw new MakerdeckError('UNAVAILABLE', `${what}: the entry without a namespace stays as it was; try again`);
    }
    return legacy;
  }
}
