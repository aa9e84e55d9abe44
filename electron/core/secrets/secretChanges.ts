// Applying several keychain changes as one: if any fails, the ones already made are undone, so
// the keychain is left as it was.
import type { Keychain } from './keychain';

/** A new value for an account, or null to delete it. */
export type KeychainChange = { account: string; value: string | null };

export interface AppliedChanges {
  /** Puts every changed account back to its value before apply. */
  undo(): Promise<void>;
}

export async function applyKeychainChanges(keychain: Keychain, changes: KeychainChange[]): Promise<AppliedChanges> {
  const done: Array<{ account: string; previous: string | undefined }> = [];
  const undo = async () => {
    for (const { account, previous } of done.reverse()) {
      // Best effort: restoring can fail for the same reason the change did.
      await (previous === undefined ? keychain.delete(account) : keychain.set(account, previous)).catch(() => undefined);
    }
  };
  try {
    for (const { account, value } of changes) {
      const previous = await keychain.get(account);
      if (value === null) await keychain.delete(account);
      else await keychain.set(account, value);
      done.push({ account, previous });
    }
  } catch (error) {
    await undo();
    throw error;
  }
  return { undo };
}
