// The OS keychain (Windows Credential Manager, macOS Keychain, Linux Secret Service) through
// @napi-rs/keyring — the only module that touches it. Entries are pinned to the Secret Service on
// Linux: the library's default silently falls back to the kernel keyring, which is lost at reboot.
import { AsyncEntry, type EntryOptions } from '@napi-rs/keyring';
import { MakerdeckError, type CheckStatus } from '../../contract';
import { withTimeout } from '../timeout';
import type { Redactor } from './redactor';
import { diagnoseSecretService, type BusLimits } from './sessionBus';

export const KEYCHAIN_SERVICE = 'makerdeck';
const ENTRY_OPTIONS: EntryOptions = { linux: { store: 'secret-service' } };
/** Long enough for a person to answer an unlock prompt. */
const USER_TIMEOUT_MS = 60_000;
/** A Secret Service answers its bus in milliseconds and starts in about one second. */
const BUS_LIMITS: BusLimits = { answerMs: 2000, startMs: 4000 };
/**
 * How long a missing Secret Service is remembered, so one command reports it once, not per entry.
 * Short: a long-running host must see a restarted service (a crashed gnome-keyring) soon.
 */
const MISSING_REMEMBERED_MS = 3_000;
const MAX_ACCOUNT = 128;
const MAX_SECRET = 4096;

function entry(account: string): AsyncEntry {
  return new AsyncEntry(KEYCHAIN_SERVICE, account, ENTRY_OPTIONS);
}

/** Writes and deletes a probe entry: on a locked Secret Service a read of a missing entry still answers null. */
export async function probeKeychain(account: string, signal?: AbortSignal): Promise<void> {
  const probe = entry(account);
  await probe.setPassword('makerdeck doctor probe', signal);
  await probe.deleteCredential(signal);
}

/** The read/write/delete surface that profiles, environments and stack credentials use. */
export interface SecretStore {
  get(account: string): Promise<string | undefined>;
  set(account: string, value: string): Promise<void>;
  /** Resolves true when something was deleted. */
  delete(account: string): Promise<boolean>;
}

/**
 * Secrets by account name, under the service "makerdeck". Every value read or written is handed to
 * the redactor first, so no output path can print it.
 */
export class Keychain implements SecretStore {
  private preflight?: { check: Promise<void>; failedAt?: number };

  constructor(
    private readonly redactor: Redactor,
    private readonly timeoutMs = USER_TIMEOUT_MS,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async get(account: string): Promise<string | undefined> {
    checkAccount(account);
    const value = await this.run('read from', (signal) => entry(account).getPassword(signal));
    if (value) this.redactor.add(value);
    return value ?? undefined;
  }

  async set(account: string, value: string): Promise<void> {
    checkAccount(account);
    if (value.length === 0) throw new MakerdeckError('BAD_INPUT', 'An empty secret cannot be stored: clear it instead');
    if (value.length > MAX_SECRET)
      throw new MakerdeckError('BAD_INPUT', `A secret must be at most ${MAX_SECRET} characters`);
    this.redactor.add(value);
    await this.run('write to', (signal) => entry(account).setPassword(value, signal));
  }

  /** Resolves true when something was deleted. */
  async delete(account: string): Promise<boolean> {
    checkAccount(account);
    return this.run('delete from', (signal) => entry(account).deleteCredential(signal));
  }

  /**
   * Fails fast, in one line, when no Secret Service is on the session bus; the keyring library
   * would block the process for the bus's activation timeout on every entry instead.
   */
  ready(): Promise<void> {
    const known = this.preflight;
    const fresh = known && (known.failedAt === undefined || Date.now() - known.failedAt < MISSING_REMEMBERED_MS);
    if (fresh) return known.check;
    const state: { check: Promise<void>; failedAt?: number } = {
      check: diagnoseSecretService(this.env, BUS_LIMITS).then((problem) => {
        if (!problem) return;
        state.failedAt = Date.now();
        throw new MakerdeckError('UNAVAILABLE', `${problem.summary}. ${problem.fix} (makerdeck doctor checks it)`);
      }),
    };
    this.preflight = state;
    return state.check;
  }

  private async run<T>(verb: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    await this.ready();
    try {
      return await withTimeout(this.timeoutMs, 'The keychain', work);
    } catch (error) {
      if (error instanceof MakerdeckError) throw error;
      const { summary, fix } = explainKeychainError(error);
      throw new MakerdeckError('UNAVAILABLE', `Could not ${verb} the keychain: ${summary}. ${fix}`);
    }
  }
}

function checkAccount(account: string): void {
  if (account.length === 0 || account.length > MAX_ACCOUNT || /[\u0000-\u001f]/.test(account)) {
    throw new MakerdeckError('BAD_INPUT', `Keychain account names are 1 to ${MAX_ACCOUNT} printable characters`);
  }
}

export interface KeychainDiagnosis {
  status: CheckStatus;
  summary: string;
  fix: string;
}

/** Turns a keychain error into one line about what is wrong and one about how to fix it. */
export function explainKeychainError(error: unknown): KeychainDiagnosis {
  const message = error instanceof Error ? error.message : String(error);
  // Whole words: D-Bus's "no reply" text says a policy may have "blocked" it, which is no lock.
  if (/\b(locked|unlock)/i.test(message)) {
    return {
      status: 'warn',
      summary: 'The keyring is locked',
      fix: 'Unlock it: log in to your desktop session, or open your keyring manager (Seahorse, KeePassXC) and unlock the login keyring',
    };
  }
  if (/secret.?service|dbus|d-bus|org\.freedesktop|no such|not (found|available|provided)|platform/i.test(message)) {
    return {
      status: 'fail',
      summary: `No keychain service answers (${firstLine(message)})`,
      fix:
        process.platform === 'linux'
          ? "Install and start a Secret Service (apt install gnome-keyring, or enable KeePassXC's Secret Service); on a headless machine run Makerdeck under dbus-run-session with gnome-keyring-daemon --unlock"
          : 'Make sure the system keychain is enabled for your user account',
    };
  }
  return {
    status: 'fail',
    summary: `The keychain refused: ${firstLine(message)}`,
    fix: 'Check that your keyring service is running and unlocked, then try again',
  };
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
