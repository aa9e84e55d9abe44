// The OS keychain (Windows Credential Manager, macOS Keychain, Linux Secret Service) through
// @napi-rs/keyring. The only module that touches it; entries are pinned to the Secret Service on
// Linux because the library's default silently falls back to the kernel keyring, lost at reboot.
import { AsyncEntry, type EntryOptions } from '@napi-rs/keyring';
import type { CheckStatus } from '../../contract';

export const KEYCHAIN_SERVICE = 'makerdeck';
const ENTRY_OPTIONS: EntryOptions = { linux: { store: 'secret-service' } };

export function keychainEntry(account: string): AsyncEntry {
  return new AsyncEntry(KEYCHAIN_SERVICE, account, ENTRY_OPTIONS);
}

/**
 * Writes and deletes a probe entry. A read is not enough: on a locked Secret Service a read of a
 * missing entry still answers null, while every write is refused.
 */
export async function probeKeychain(signal?: AbortSignal): Promise<void> {
  const entry = keychainEntry('doctor/probe');
  await entry.setPassword('makerdeck doctor probe', signal);
  await entry.deleteCredential(signal);
}

export interface KeychainDiagnosis {
  status: CheckStatus;
  summary: string;
  fix: string;
}

/** Turns a keychain error into one line about what is wrong and one about how to fix it. */
export function explainKeychainError(error: unknown): KeychainDiagnosis {
  const message = error instanceof Error ? error.message : String(error);
  if (/locked|unlock/i.test(message)) {
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
          ? 'Install and start a Secret Service (apt install gnome-keyring, or enable KeePassXC\'s Secret Service); on a headless machine run Makerdeck under dbus-run-session with gnome-keyring-daemon --unlock'
          : 'Make sure the system keychain is enabled for your user account',
    };
  }
  return { status: 'fail', summary: `The keychain refused: ${firstLine(message)}`, fix: 'Check that your keyring service is running and unlocked, then run the doctor again' };
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
