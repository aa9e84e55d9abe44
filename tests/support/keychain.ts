// Reading back what the real Secret Service holds, per data folder.
import { spawnSync } from 'node:child_process';
import { findCredentialsAsync } from '@napi-rs/keyring';
import { keychainNamespace } from '../../electron/core/secrets/folderKeychain';
import { Keychain } from '../../electron/core/secrets/keychain';
import { Redactor } from '../../electron/core/secrets/redactor';
import { secretToolLookup } from './files';

/** The account as a data folder stores it in the keychain ("<namespace>/<account>"). */
export function folderAccount(dataDir: string, account: string): string {
  return `${keychainNamespace(dataDir)}/${account}`;
}

const ITEM_VANISHED = /Object does not exist|No such interface .* on object at path/;

/**
 * Every account under the service "makerdeck" in the real Secret Service. (secret-tool search --all
 * prints nothing but GLib assertions once the keyring holds a few hundred items, so the keyring
 * library's own search is used.)
 */
export async function keychainAccounts(): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await findCredentialsAsync('makerdeck')).map((credential) => credential.account).sort();
    } catch (error) {
      // Another test file deleted an item between the search and the read: list again. The
      // Secret Service words it either way, depending on the moment the item went.
      if (attempt === 5 || !ITEM_VANISHED.test((error as Error).message)) throw error;
    }
  }
}

/** A data folder's keychain entries (namespace left off) and their values, read back from the real keyring. */
export async function folderSecrets(dataDir: string): Promise<Record<string, string | undefined>> {
  const prefix = `${keychainNamespace(dataDir)}/`;
  const keychain = new Keychain(new Redactor());
  const secrets: Record<string, string | undefined> = {};
  for (const account of await keychainAccounts()) {
    if (account.startsWith(prefix)) secrets[account.slice(prefix.length)] = await keychain.get(account);
  }
  return secrets;
}

/** Deletes every keychain entry of the data folders, so tests leave the shared test keyring as they found it. */
export async function forgetFolders(dataDirs: string[]): Promise<void> {
  const prefixes = dataDirs.map((dir) => `${keychainNamespace(dir)}/`);
  const keychain = new Keychain(new Redactor());
  for (const account of await keychainAccounts()) {
    if (prefixes.some((prefix) => account.startsWith(prefix))) await keychain.delete(account);
  }
}

/**
 * A data folder's keychain entries and values in the Secret Service that `env` names, read with
 * libsecret's own tool (fine for a small keyring: see keychainAccounts).
 */
export function secretToolFolderSecrets(dataDir: string, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const prefix = `${keychainNamespace(dataDir)}/`;
  const fullEnv = { ...process.env, ...env };
  const search = ['search', '--all', 'service', 'makerdeck'];
  const listed = spawnSync('secret-tool', search, { env: fullEnv, encoding: 'utf8' });
  const accounts = [...`${listed.stdout}\n${listed.stderr}`.matchAll(/^attribute\.username = (.*)$/gm)]
    .map((match) => match[1]!)
    .filter((name) => name.startsWith(prefix))
    .sort();
  const value = (account: string) => secretToolLookup(account, fullEnv);
  return Object.fromEntries(accounts.map((account) => [account.slice(prefix.length), value(account)]));
}
