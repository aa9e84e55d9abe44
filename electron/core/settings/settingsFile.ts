// The settings file in the app's data folder: non-secret settings only, schema-checked, versioned,
// and written atomically (temp file, fsync, rename) so a crash or a full disk leaves the old file.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { EnvironmentSettings, MakerdeckError, ProfileFields, ProfileId } from '../../contract';

export const SETTINGS_VERSION = 2;

const StoredProfile = ProfileFields.extend({ id: ProfileId, updatedAt: z.string() }).strict();
export type StoredProfile = z.infer<typeof StoredProfile>;

const Settings = z
  .object({
    version: z.literal(SETTINGS_VERSION),
    profiles: z.array(StoredProfile),
    environment: EnvironmentSettings,
  })
  .strict();
export type Settings = z.infer<typeof Settings>;

export interface SettingsChange<T> {
  settings: Settings;
  result: T;
  undo?: () => Promise<void>;
}

const EMPTY: Settings = { version: SETTINGS_VERSION, profiles: [], environment: { kind: 'local' } };

/** Upgrades from each older version to the next; the file is rewritten on the next save. */
const MIGRATIONS: Record<number, (raw: Record<string, unknown>) => Record<string, unknown>> = {
  1: (raw) => ({ ...raw, version: 2, environment: { kind: 'local' } }),
};

export class SettingsFile {
  readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.path = path.join(dataDir, 'settings.json');
  }

  async load(): Promise<Settings> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(EMPTY);
      throw new MakerdeckError('UNAVAILABLE', `Cannot read ${this.path}: ${(error as Error).message}`);
    }
    return this.parse(text);
  }

  /**
   * Runs read-change-write steps one at a time, so two saves in this process never interleave.
   * `change` returns the new settings; it may throw to abort with nothing written. When the write
   * fails, `undo` reverts what `change` did elsewhere (the keychain) before the error is thrown.
   */
  update<T>(change: (settings: Settings) => Promise<SettingsChange<T>>): Promise<T> {
    const next = this.queue.then(async () => {
      const { settings, result, undo } = await change(await this.load());
      try {
        await this.write(settings);
      } catch (error) {
        await undo?.();
        throw error;
      }
      return result;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private parse(text: string): Settings {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new MakerdeckError('UNAVAILABLE', `${this.path} is damaged (not JSON): move it away to start afresh; Makerdeck has not changed it`);
    }
    const version = (raw as { version?: unknown } | null)?.version;
    if (typeof version === 'number' && version > SETTINGS_VERSION) {
      throw new MakerdeckError('UNAVAILABLE', `${this.path} was written by a newer Makerdeck (settings version ${version}): update Makerdeck`);
    }
    let upgraded = raw as Record<string, unknown>;
    while (typeof upgraded?.version === 'number' && MIGRATIONS[upgraded.version]) upgraded = MIGRATIONS[upgraded.version]!(upgraded);
    const parsed = Settings.safeParse(upgraded);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MakerdeckError('UNAVAILABLE', `${this.path} is damaged at "${issue?.path.join('.')}": ${issue?.message}; fix or move it away — Makerdeck has not changed it`);
    }
    return parsed.data;
  }

  /** Exposed for fault-injection tests; everyone else goes through update(). */
  protected async write(settings: Settings): Promise<void> {
    const valid = Settings.parse(settings);
    await mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const file = await open(temp, 'w', 0o600);
      try {
        await file.writeFile(JSON.stringify(valid, null, 2) + '\n');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      const reason = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'the disk is full' : (error as Error).message;
      throw new MakerdeckError('UNAVAILABLE', `Cannot save ${this.path}: ${reason}`);
    }
    await syncDir(path.dirname(this.path));
  }
}

/** Makes the rename itself durable (POSIX); not possible on Windows, where it is skipped. */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
