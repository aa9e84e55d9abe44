// Several keychain changes made as one, together with the settings file (settingsFile.ts drives
// it): each previous value is first copied to a backup entry, then the changes are made. On a
// failure the changes are undone in reverse from the values held in memory; after a crash the
// journal (account names and backup names only, never a value) and the backups put things back.
import { randomBytes } from 'node:crypto';
import { backupAccount } from './accounts';
import type { SecretStore } from './keychain';

/** A new value for an account, or null to delete it. */
export type KeychainChange = { account: string; value: string | null };

/** What the journal keeps of one change: the account, and where its previous value is backed up (null: it had none). */
export interface JournalEntry {
  account: string;
  backup: string | null;
}

type Step = { account: string; value: string | null; previous: string | undefined; backup: string | null };

export class KeychainTransaction {
  private backedUp = 0;
  private applied = 0;

  private constructor(
    /** Names the backups, and marks the settings file it commits with. */
    readonly id: string,
    private readonly store: SecretStore,
    private readonly steps: Step[],
  ) {}

  /** Reads the previous values; changes that would change nothing are dropped. */
  static async prepare(store: SecretStore, changes: KeychainChange[]): Promise<KeychainTransaction> {
    const id = randomBytes(4).toString('hex');
    const steps: Step[] = [];
    for (const [index, { account, value }] of changes.entries()) {
      const previous = await store.get(account);
      if (previous === (value ?? undefined)) continue;
      steps.push({ account, value, previous, backup: previous === undefined ? null : backupAccount(id, index) });
    }
    return new KeychainTransaction(id, store, steps);
  }

  get empty(): boolean {
    return this.steps.length === 0;
  }

  get journal(): JournalEntry[] {
    return this.steps.map(({ account, backup }) => ({ account, backup }));
  }

  /** Every backup first, then every change, in order. */
  async apply(): Promise<void> {
    for (const step of this.steps) {
      if (step.backup !== null) await this.store.set(step.backup, step.previous!);
      this.backedUp += 1;
    }
    for (const step of this.steps) {
      if (step.value === null) await this.store.delete(step.account);
      else await this.store.set(step.account, step.value);
      this.applied += 1;
    }
  }

  /**
   * Undoes, in reverse, what apply did — the step that failed counts as made, since a keychain can
   * fail after writing — then deletes the backups. Resolves false when the keychain refused part of
   * the undo: the journal must then stay, for recovery to finish it.
   */
  async rollback(): Promise<boolean> {
    let clean = true;
    const attempt = (work: () => Promise<unknown>) => work().catch(() => (clean = false));
    if (this.backedUp === this.steps.length) {
      for (const { account, previous } of this.steps.slice(0, this.applied + 1).reverse()) {
        await attempt(() => (previous === undefined ? this.store.delete(account) : this.store.set(account, previous)));
      }
    }
    await attempt(() => this.finish(this.backedUp + 1));
    return clean;
  }

  /** Deletes the backups (the first `count`, in reverse) once they are not needed. */
  async finish(count = this.steps.length): Promise<void> {
    let failure: unknown;
    for (const step of this.steps.slice(0, count).reverse()) {
      if (step.backup !== null) await this.store.delete(step.backup).catch((error: unknown) => (failure ??= error));
    }
    if (failure) throw failure;
  }
}

/**
 * Settles a transaction a crashed or interrupted process left behind. Committed (the settings file
 * holds its new content): the changes stand, the backups go. Otherwise every account is put back —
 * from its backup, or deleted when it had no value — and then the backups go. A backup that was
 * never written means its account was never changed (all backups come before all changes).
 */
export async function recoverKeychain(store: SecretStore, entries: JournalEntry[], committed: boolean): Promise<void> {
  if (!committed) {
    for (const { account, backup } of [...entries].reverse()) {
      if (backup === null) {
        await store.delete(account);
        continue;
      }
      const previous = await store.get(backup);
      if (previous !== undefined) await store.set(account, previous);
    }
  }
  for (const { backup } of [...entries].reverse()) if (backup !== null) await store.delete(backup);
}
