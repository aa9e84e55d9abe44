// Installs from before per-device logins: profiles logged in as the shared "makerdeck-device" user.
// On `stack up` each such profile gets its own device's login, and only then is the shared user
// deleted from the broker and its password from the keychain (boards flashed with it stop
// connecting: release them again).
import type { ProfileView } from '../../contract';
import type { FolderKeychain } from '../secrets/folderKeychain';
import { STACK_ACCOUNT_PREFIX } from '../secrets/accounts';
import {
  LEGACY_DEVICE_CREDENTIAL,
  LEGACY_DEVICE_USER,
  closeConnections,
  deleteUser,
  deviceUser,
  type BrokerAdmin,
} from './brokerUsers';
import type { DeviceAccounts, DeviceLogin } from './deviceAccounts';

export interface MigrationDeps {
  accounts: DeviceAccounts;
  keychain: FolderKeychain;
  profiles: {
    list(): Promise<ProfileView[]>;
    /** Stores the device's own login in the profile. */
    useLogin(profileId: string, login: DeviceLogin): Promise<unknown>;
  };
}

/**
 * Moves profiles off the shared login and removes it. Returns one line saying what happened, or
 * undefined when there was nothing to do. A failure leaves the shared user in place.
 */
export async function migrateSharedLogin(deps: MigrationDeps, admin: BrokerAdmin): Promise<string | undefined> {
  const shared = (await deps.profiles.list()).filter((p) => p.mqttUsername === LEGACY_DEVICE_USER);
  for (const profile of shared) await deps.profiles.useLogin(profile.id, await deps.accounts.ensure(profile.deviceId));
  const onBroker = await deleteUser(admin, LEGACY_DEVICE_USER);
  await closeConnections(admin, LEGACY_DEVICE_USER);
  const inKeychain = await deps.keychain.delete(STACK_ACCOUNT_PREFIX + LEGACY_DEVICE_CREDENTIAL);
  if (!shared.length && !onBroker && !inKeychain) return undefined;
  const moved = shared.map((p) => `${p.name} (${deviceUser(p.deviceId)})`);
  return (
    `shared device login ${LEGACY_DEVICE_USER} removed` +
    (moved.length ? `; own logins for ${moved.join(', ')} (flash these boards again)` : '')
  );
}
