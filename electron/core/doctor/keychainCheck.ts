import { MakerdeckError } from '../../contract';
import { explainKeychainError, probeKeychain } from '../secrets/keychain';
import { withTimeout } from '../timeout';
import type { Check } from './check';

const PROBE_TIMEOUT_MS = 2500;

const STORE_NAME: Record<string, string> = {
  linux: 'Secret Service',
  darwin: 'macOS Keychain',
  win32: 'Windows Credential Manager',
};

export const keychainCheck: Check = {
  id: 'keychain',
  title: 'OS keychain',
  budgetMs: 3500,
  async run() {
    const store = STORE_NAME[process.platform] ?? 'OS keychain';
    try {
      await withTimeout(PROBE_TIMEOUT_MS, `The ${store}`, (signal) => probeKeychain(signal));
      return { status: 'ok', summary: `The ${store} answers; secrets will be kept there` };
    } catch (error) {
      if (error instanceof MakerdeckError && error.code === 'TIMEOUT') {
        return {
          status: 'warn',
          summary: `The ${store} did not answer in time (an unlock prompt may be waiting)`,
          fix: 'Unlock your keyring (answer the unlock prompt), then run the doctor again',
        };
      }
      return explainKeychainError(error);
    }
  },
};
