// The settings file in the app's data folder: non-secret settings only, schema-checked, versioned,
// and written atomically (temp file, fsync, rename) so a crash or a full disk leaves the old file.
// Every change holds the folder's lock (folderLock.ts), so the app, `serve` and CLI commands never
// lose each other's changes, and commits together with its keychain changes: a journal beside the
// file (account names only) lets the next process finish or undo a change a crash interrupted.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { EnvironmentSettings, MakerdeckError, ProfileFields, ProfileId } from '../../contract';
import { jsonOrUndefined } from '../jsonOrUndefined';
import { pathExists } from '../pathExists';
import { referencedAccounts } from '../secrets/accounts';
import type { FolderKeychain } from '../secrets/folderKeychain';
import { KeychainTransaction, recoverKeychain, type KeychainChange } from '../secrets/secretChanges';
import { FolderLock } from './folderLock';
import { syncDir, writeAtomic } from './writeAtomic';

/**
 * 3: keychain accounts carry the data folder's namespace (folderKeychain.ts).
 * 4: `stack.lanBroker`, the user's choice to open the local broker's MQTT port to the LAN.
 */
export const SETTINGS_VERSION = 4;

/** The local stack's remembered choices. */
const StackSettings = z.object({ lanBroker: z.boolean() }).strict();
export type StackSettings = z.infer<typeof StackSettings>;

const StoredProfile = ProfileFields.extend({ id: ProfileId, updatedAt: z.string() }).strict();
export type StoredProfile = z.infer<typeof StoredProfile>;

const Settings = z
  .object({
    version: z.literal(SETTINGS_VERSION),
    profiles: z.array(StoredProfile),
    environment: EnvironmentSettings,
    stack: StackSettings,
    /** The last change committed together with keychain changes: tells a finished change from an interrupted one. */
    keychainTransaction: z.string().optional(),
  })
  .strict();
export type Settings = z.infer<typeof Settings>;

const Journal = z
  .object({
    transaction: z.string(),
    entries: z.array(z.object({ account: z.string(), backup: z.string().nullable() }).strict()),
  })
  .strict();
type Journal = z.infer<typeof Journal>;

export interface SettingsChange<T> {
  settings: Settings;
  result: T;
  /** Keychain changes that are made with the file, or not at all. */
  secrets?: KeychainChange[];
}

const EMPTY: Settings = {
  version: SETTINGS_VERSION,
  profiles: [],
  environment: { kind: 'local' },
  stack: { lanBroker: false },
};

/** Upgrades from each older version to the next; the file is rewritten when it is first used. */
const MIGRATIONS: Record<number, (raw: Record<string, unknown>) => Record<string, unknown>> = {
  1: (raw) => ({ ...raw, version: 2, environment: { kind: 'local' } }),
  // The keychain part (copying un-namespaced entries into this folder) runs in SettingsFile.upgrade.
  2: (raw) => ({ ...raw, version: 3 }),
  // Loopback stays the default: the broker opens to the LAN only when the user chooses it.
  3: (raw) => ({ ...raw, version: 4, stack: { lanBroker: false } }),
};

/** An undo the keychain refused: the message says so, and no "Nothing was changed" is added. */
class UndoPending extends MakerdeckError {}

export class SettingsFile {
  readonly path: string;
  readonly lock: FolderLock;
  private readonly journalPath: string;

  constructor(
    dataDir: string,
    private readonly keychain: FolderKeychain,
    options: { lockWaitMs?: number } = {},
  ) {
    this.path = path.join(dataDir, 'settings.json');
    this.journalPath = path.join(dataDir, 'settings.journal');
    this.lock = new FolderLock(dataDir, options.lockWaitMs);
  }

  /**
   * The settings, read without the lock — unless an interrupted change must be settled first, or
   * the file is from an older version (upgraded once, under the lock).
   */
  async load(): Promise<Settings> {
    const text = await this.readText();
    if (!(await this.needsUpkeep(text))) return this.parseOrEmpty(text);
    await this.lock.hold(() => this.upkeep());
    return this.parseOrEmpty(await this.readText());
  }

  /**
   * Runs one read-change-write holding the folder's lock. `change` returns the new settings and
   * the keychain changes that go with them; it may throw to abort with nothing written. The
   * keychain changes and the file are committed together or not at all.
   */
  async update<T>(change: (settings: Settings) => Promise<SettingsChange<T>>): Promise<T> {
    try {
      await this.keychain.ready(); // nothing is touched, not even the folder, without a keychain
      return await this.lock.hold(async () => {
        await this.upkeep();
        const { settings, result, secrets = [] } = await change(this.parseOrEmpty(await this.readText()));
        await this.commit(settings, secrets);
        return result;
      });
    } catch (error) {
      throw withOutcome(error);
    }
  }

  private async commit(settings: Settings, changes: KeychainChange[]): Promise<void> {
    const transaction = await KeychainTransaction.prepare(this.keychain, changes);
    if (transaction.empty) return this.write(settings);
    await saveFile(this.journalPath, JSON.stringify({ transaction: transaction.id, entries: transaction.journal }));
    try {
      await transaction.apply();
      await this.write({ ...settings, keychainTransaction: transaction.id });
    } catch (error) {
      // A failure after the rename (syncing the folder) leaves the new file: the change stands.
      const landed = await this.committedTransaction().catch(() => undefined);
      if (landed !== transaction.id) await this.undo(transaction, error);
    }
    // Committed. Backups the keychain refuses to delete now go at the next recovery.
    await transaction.finish().then(
      () => this.removeJournal(),
      () => undefined,
    );
  }

  private async undo(transaction: KeychainTransaction, error: unknown): Promise<never> {
    if (await transaction.rollback()) {
      await this.removeJournal().catch(() => undefined); // left behind, its recovery changes nothing
      throw error;
    }
    const reason = error instanceof Error ? error.message.replace(/[.\s]*$/, '') : String(error);
    throw new UndoPending(
      error instanceof MakerdeckError ? error.code : 'UNAVAILABLE',
      `${reason}. The keychain did not let Makerdeck undo all of it yet: the entries it changed are put ` +
        `back before the settings are next read or changed (journal ${this.journalPath}); ` +
        'the settings file was not changed.',
    );
  }

  /** Settles an interrupted change, then upgrades a file from an older version. Holds the lock. */
  private async upkeep(): Promise<void> {
    await this.recover();
    const text = await this.readText();
    if (text !== undefined && versionOf(text) < SETTINGS_VERSION) await this.upgrade(text);
  }

  private async recover(): Promise<void> {
    const journal = await this.readJournal();
    if (!journal) return;
    const committed = (await this.committedTransaction()) === journal.transaction;
    try {
      await recoverKeychain(this.keychain, journal.entries, committed);
    } catch (error) {
      const reason = (error as Error).message.replace(/[.\s]*$/, '');
      const context = `while putting back the keychain entries of an interrupted change (${this.journalPath})`;
      const retry = 'Makerdeck tries again on the next read or change';
      throw new MakerdeckError('UNAVAILABLE', `${reason} — ${context}; ${retry}`);
    }
    await this.removeJournal();
  }

  /**
   * Version 3 keeps secrets under the folder's namespace: the un-namespaced entries an earlier
   * Makerdeck wrote for this folder's profiles and environment are copied in first (and left in
   * place, since another data folder may refer to the same ones).
   */
  private async upgrade(text: string): Promise<void> {
    const settings = this.parse(text);
    if (versionOf(text) < 3) {
      for (const account of referencedAccounts(settings)) await this.keychain.adoptLegacy(account);
    }
    await this.write(settings);
  }

  private async needsUpkeep(text: string | undefined): Promise<boolean> {
    if (text !== undefined && versionOf(text) < SETTINGS_VERSION) return true;
    return pathExists(this.journalPath);
  }

  private async readText(): Promise<string | undefined> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new MakerdeckError('UNAVAILABLE', `Cannot read ${this.path}: ${(error as Error).message}`);
    }
  }

  /** The transaction the settings file on disk was last committed with. */
  private async committedTransaction(): Promise<string | undefined> {
    const text = await this.readText();
    if (text === undefined) return undefined;
    const recorded = (jsonOrUndefined(text) as Partial<Settings> | undefined)?.keychainTransaction;
    return typeof recorded === 'string' ? recorded : undefined;
  }

  private async readJournal(): Promise<Journal | undefined> {
    let text: string;
    try {
      text = await readFile(this.journalPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new MakerdeckError('UNAVAILABLE', `Cannot read ${this.journalPath}: ${(error as Error).message}`);
    }
    const parsed = Journal.safeParse(jsonOrUndefined(text));
    if (!parsed.success) {
      const unknown = 'which keychain entries an interrupted change touched is unknown; move it away to go on';
      throw new MakerdeckError('UNAVAILABLE', `${this.journalPath} is damaged: ${unknown}`);
    }
    return parsed.data;
  }

  private async removeJournal(): Promise<void> {
    await rm(this.journalPath, { force: true });
    await syncDir(path.dirname(this.journalPath));
  }

  private parseOrEmpty(text: string | undefined): Settings {
    return text === undefined ? structuredClone(EMPTY) : this.parse(text);
  }

  private parse(text: string): Settings {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new MakerdeckError(
        'UNAVAILABLE',
        `${this.path} is damaged (not JSON): move it away to start afresh; Makerdeck has not changed it`,
      );
    }
    const version = (raw as { version?: unknown } | null)?.version;
    if (typeof version === 'number' && version > SETTINGS_VERSION) {
      throw new MakerdeckError(
        'UNAVAILABLE',
        `${this.path} was written by a newer Makerdeck (settings version ${version}): update Makerdeck`,
      );
    }
    let upgraded = raw as Record<string, unknown>;
    while (typeof upgraded?.version === 'number' && MIGRATIONS[upgraded.version])
      upgraded = MIGRATIONS[upgraded.version]!(upgraded);
    const parsed = Settings.safeParse(upgraded);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MakerdeckError(
        'UNAVAILABLE',
        `${this.path} is damaged at "${issue?.path.join('.')}": ${issue?.message}; fix or move it away — Makerdeck has not changed it`,
      );
    }
    return parsed.data;
  }

  /** Exposed for fault-injection tests; everyone else goes through update(). */
  protected async write(settings: Settings): Promise<void> {
    await saveFile(this.path, serialize(settings));
  }
}

/** writeAtomic, with a failure said in one line. */
async function saveFile(file: string, text: string): Promise<void> {
  try {
    await writeAtomic(file, text);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'the disk is full' : (error as Error).message;
    throw new MakerdeckError('UNAVAILABLE', `Cannot save ${file}: ${reason}`);
  }
}

/** Adds what a failed change left behind to its message: nothing, unless the keychain's undo is still pending. */
function withOutcome(error: unknown): unknown {
  if (!(error instanceof MakerdeckError) || error instanceof UndoPending) return error;
  if (error.code !== 'UNAVAILABLE' && error.code !== 'TIMEOUT') return error;
  return new MakerdeckError(error.code, `${error.message.replace(/[.\s]*$/, '')}. Nothing was changed.`);
}

function serialize(settings: Settings): string {
  return JSON.stringify(Settings.parse(settings), null, 2) + '\n';
}

/** The version a file says it has (NaN when unreadable: parse() then says what is wrong). */
function versionOf(text: string): number {
  const version = (jsonOrUndefined(text) as { version?: unknown } | undefined)?.version;
  return typeof version === 'number' ? version : Number.NaN;
}
