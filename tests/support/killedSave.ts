// A process that runs one settings transaction and kills itself (SIGKILL, as kill -9 or a power
// cut would) at a chosen step: before or after the Nth keychain write or delete, or just before or
// after the settings file is written. Run by tests/integration/profilesAtomic.test.ts through
// jiti (TypeScript in a child process). With the point "none" it runs to the end and prints the
// keychain writes and deletes it made, as JSON.
import { KeychainFailingAt, SCENARIOS, world } from './faultScenarios';

const [dataDir, scenario, point] = process.argv.slice(2) as [string, string, string];
const [phase, step] = point.split(':') as ['before' | 'after', string];
const die = () => process.kill(process.pid, 'SIGKILL');

const keychain = new KeychainFailingAt(Number.POSITIVE_INFINITY, false, (index, when) => {
  if (when === phase && String(index) === step) die();
});
const parts = world(dataDir, keychain);
parts.file.onWrite = (when) => {
  if (when === phase && step === 'settings') die();
};
await SCENARIOS[scenario]!(parts, { exported: '' });
process.stdout.write(JSON.stringify(keychain.log));
process.exit(0);
