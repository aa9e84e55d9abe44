import { randomBytes } from 'node:crypto';
import { MakerdeckError } from '../../contract';
import { keychainNamespace } from '../secrets/folderKeychain';
import { explainKeychainError, probeKeychain } from '../secrets/keychain';
import { diagnoseSecretService } from '../secrets/sessionBus';
import { withTimeout } from '../timeout';
import type { Check } from './check';

const PROBE_TIMEOUT_MS = 2500;
/** The bus answers in milliseconds; starting a Secret Service takes about a second. */
const BUS_LIMITS = { answerMs: 1000, startMs: 1500 };

const STORE_NAME: Record<string, string> = {
  linux: 'Secret Service',
  darwin: 'macOS Keychain',
  win32: 'Windows Credential Manager',
};

export const keychainCheck: Check = {
  id: 'keychain',
  title: 'OS keychain',
  budgetMs: 3500,
  async run(context) {
    const store = STORE_NAME[process.platform] ?? 'OS keychain';
    const started = Date.now();
    const missing = await diagnoseSecretService(context.env, BUS_LIMITS);
    if (missing) return { status: 'fail', ...missing };
    // A probe entry of this data folder's own (and this process's: doctors may run side by side).
    // Unique per run: two runs at once (a page and a CLI in one process) never race on one item.
    const probe = `${keychainNamespace(context.dataDir)}/doctor/probe-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const left = Math.max(500, PROBE_TIMEOUT_MS - (Date.now() - started));
      await withTimeout(left, `The ${store}`, (signal) => probeKeychain(probe, signal));
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
