// A child process making device broker logins one at a time on request, with the keychain its own
// environment names (the keyring library keeps the first D-Bus session it used for the whole process,
// so a test wanting a Secret Service of its own runs the batch here). Run through jiti by
// tests/integration/labOnlineFaults.test.ts: argv is the data folder and the management URL; stdin's
// first line is the broker admin's password (never argv), then one device id per line; stdout has a
// JSON line per id: {"ok":true,"username":…} or {"ok":false,"message":…}.
import { createInterface } from 'node:readline';
import { FolderKeychain } from '../../electron/core/secrets/folderKeychain';
import { Keychain } from '../../electron/core/secrets/keychain';
import { Redactor } from '../../electron/core/secrets/redactor';
import { DeviceAccounts } from '../../electron/core/stack/deviceAccounts';

const [dataDir, managementUrl] = process.argv.slice(2) as [string, string];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const password = ((await lines.next()).value as string | undefined) ?? '';
const accounts = new DeviceAccounts({
  keychain: new FolderKeychain(new Keychain(new Redactor()), dataDir),
  lock: { hold: <T>(work: () => Promise<T>) => work() } as never,
  admin: async () => ({ managementUrl, username: 'makerdeck', password }),
});
for await (const deviceId of { [Symbol.asyncIterator]: () => lines }) {
  try {
    const login = await accounts.ensure(deviceId);
    process.stdout.write(`${JSON.stringify({ ok: true, username: login.username })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, message: (error as Error).message })}\n`);
  }
}
process.exit(0);
