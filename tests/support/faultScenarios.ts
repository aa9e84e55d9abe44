// The settings transactions the fault-injection tests break at every step: each profile change
// (save, duplicate, delete, import) and attaching an environment, on the real keyring.
import { MakerdeckError } from '../../electron/contract';
import { Profiles } from '../../electron/core/profiles/profiles';
import { FolderKeychain } from '../../electron/core/secrets/folderKeychain';
import { Keychain } from '../../electron/core/secrets/keychain';
import { Redactor } from '../../electron/core/secrets/redactor';
import { StackCredentials } from '../../electron/core/secrets/stackCredentials';
import { SettingsFile, type Settings } from '../../electron/core/settings/settingsFile';
import { Environments } from '../../electron/core/stack/environment';

export const PASSPHRASE = 'fault-passphrase-1';
const base = { board: 'esp32:esp32:esp32', wifiSsid: 'fault-net', mqttHost: 'broker.lan' };
const lab = {
  kind: 'attached',
  mqttUrl: 'mqtt://lab:1883',
  influxUrl: 'http://lab:8086',
  influxDatabase: 'lab',
  mqttUsername: 'class',
  influxUsername: 'class',
} as const;
const oldSecrets = { wifiPassword: 'old-wifi-pass', mqttPassword: 'old-mqtt-pass' };
const newSecrets = { wifiPassword: 'new-wifi-pass', mqttPassword: 'new-mqtt-pass' };

/** One operation's op log entry: which keychain write or delete, in order. */
export type KeychainOp = { verb: 'write' | 'delete'; account: string };

/**
 * A fault-injecting wrapper over the real keyring: its `failAt`-th write or delete fails (before it
 * is made) with the error Makerdeck's keychain gives; with `dies`, every later one fails too, as
 * when the keyring daemon dies. `onOp` sees each one before and after it is made (the crash tests
 * kill the process there).
 */
export class KeychainFailingAt extends Keychain {
  readonly log: KeychainOp[] = [];
  private dead = false;

  constructor(
    private readonly failAt = Number.POSITIVE_INFINITY,
    private readonly dies = false,
    private readonly onOp: (index: number, phase: 'before' | 'after') => void = () => {},
  ) {
    super(new Redactor());
  }

  revive(): void {
    this.dead = false;
  }

  override async set(account: string, value: string): Promise<void> {
    const index = this.step({ verb: 'write', account });
    await super.set(account, value);
    this.onOp(index, 'after');
  }

  override async delete(account: string): Promise<boolean> {
    const index = this.step({ verb: 'delete', account });
    const deleted = await super.delete(account);
    this.onOp(index, 'after');
    return deleted;
  }

  private step(op: KeychainOp): number {
    this.log.push(op);
    const index = this.log.length;
    this.onOp(index, 'before');
    if (index === this.failAt && this.dies) this.dead = true;
    if (index === this.failAt || this.dead) {
      const message = `Could not ${op.verb} the keychain: injected fault at write/delete #${index}`;
      throw new MakerdeckError('UNAVAILABLE', message);
    }
    return index;
  }
}

/** Fault injection: the settings file's write fails when `fail` is set, as on a full or read-only disk. */
export class SettingsFileFailingWrite extends SettingsFile {
  fail = false;
  onWrite: (phase: 'before' | 'after') => void = () => {};

  protected override async write(settings: Settings): Promise<void> {
    this.onWrite('before');
    if (this.fail) throw new MakerdeckError('UNAVAILABLE', `Cannot save ${this.path}: injected fault`);
    await super.write(settings);
    this.onWrite('after');
  }
}

export interface World {
  keychain: Keychain;
  file: SettingsFileFailingWrite;
  profiles: Profiles;
  environments: Environments;
}

export function world(dataDir: string, keychain: Keychain = new Keychain(new Redactor())): World {
  const folder = new FolderKeychain(keychain, dataDir);
  const file = new SettingsFileFailingWrite(dataDir, folder);
  const profiles = new Profiles(file, folder, new Redactor());
  const environments = new Environments(file, folder, new StackCredentials(folder, file.lock));
  return { keychain, file, profiles, environments };
}

/** What every scenario starts from: a profile with both secrets and an attached environment with both passwords. */
export async function baseline(dataDir: string): Promise<{ exported: string }> {
  const { profiles, environments } = world(dataDir);
  await profiles.save({ fields: { ...base, name: 'Fault Bench', deviceId: 'fault-1' }, secrets: oldSecrets });
  await environments.set(lab, { mqttPassword: 'old-lab-mqtt', influxPassword: 'old-lab-influx' });
  return { exported: (await profiles.export('fault-bench', PASSPHRASE)).content };
}

type Scenario = (world: World, start: { exported: string }) => Promise<unknown>;

export const SCENARIOS: Record<string, Scenario> = {
  'change both secrets': ({ profiles }) =>
    profiles.save({ ref: 'fault-bench', fields: { mqttPort: 8883 }, secrets: newSecrets }),
  'clear one secret and set the other': ({ profiles }) =>
    profiles.save({ ref: 'fault-bench', fields: {}, secrets: { wifiPassword: null, mqttPassword: 'new-mqtt-pass' } }),
  'create with secrets': ({ profiles }) =>
    profiles.save({ fields: { ...base, name: 'Fault New', deviceId: 'fault-2' }, secrets: newSecrets }),
  duplicate: ({ profiles }) => profiles.duplicate('fault-bench', 'Fault Copy'),
  delete: ({ profiles }) => profiles.remove('fault-bench'),
  'import with secrets': ({ profiles }, { exported }) => profiles.import(exported, PASSPHRASE, 'Fault Imported'),
  'attach an environment': ({ environments }) =>
    environments.set(lab, { mqttPassword: 'new-lab-mqtt', influxPassword: 'new-lab-influx' }),
};
