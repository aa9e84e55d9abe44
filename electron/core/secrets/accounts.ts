// The keychain account names of one data folder, in one place (each is stored with the folder's
// namespace in front, see folderKeychain.ts): profile secrets, the attached environment's
// passwords, the stack's credentials, and the backups a transaction keeps while it runs.
import { SECRET_FIELDS, type EnvironmentSettings, type SecretField } from '../../contract';

const PROFILE_SUFFIX: Record<SecretField, string> = { wifiPassword: 'wifi-password', mqttPassword: 'mqtt-password' };

/** "<profile-id>/wifi-password" or "<profile-id>/mqtt-password". */
export function profileAccount(profileId: string, field: SecretField): string {
  return `${profileId}/${PROFILE_SUFFIX[field]}`;
}

export const ENVIRONMENT_ACCOUNTS = {
  mqtt: 'environment/mqtt-password',
  influx: 'environment/influx-password',
} as const;

/** A device's broker password (deviceAccounts.ts): "device/<device id>/mqtt-password". */
export function deviceAccount(deviceId: string): string {
  return `device/${deviceId}/mqtt-password`;
}

export const STACK_ACCOUNT_PREFIX = 'stack/';
/** Every credential the stack uses (stack/compose.yaml; rabbitmq-device: the shared login of old installs). */
export const STACK_CREDENTIAL_NAMES = ['rabbitmq-admin', 'rabbitmq-device', 'influxdb-admin', 'grafana-admin'] as const;

/** A transaction's copy of an account's previous value (four parts: never a profile's account). */
export function backupAccount(transaction: string, index: number): string {
  return `journal/${transaction}/${index}`;
}

type Referring = { profiles: Array<{ id: string; deviceId?: string }>; environment: EnvironmentSettings };

/** The secret accounts that the settings refer to: profiles' secrets and the attached environment's passwords. */
export function referencedAccounts(settings: Referring): string[] {
  const accounts = settings.profiles.flatMap(({ id }) => SECRET_FIELDS.map((field) => profileAccount(id, field)));
  if (settings.environment.kind === 'attached') accounts.push(ENVIRONMENT_ACCOUNTS.mqtt, ENVIRONMENT_ACCOUNTS.influx);
  return accounts;
}

/** Every account this folder may hold outside a running transaction, e.g. to teach the redactor. */
export function folderAccounts(settings: Referring): string[] {
  const stack = STACK_CREDENTIAL_NAMES.map((name) => STACK_ACCOUNT_PREFIX + name);
  const environment = Object.values(ENVIRONMENT_ACCOUNTS);
  const devices = settings.profiles.flatMap(({ deviceId }) => (deviceId ? [deviceAccount(deviceId)] : []));
  return [...new Set([...referencedAccounts(settings), ...environment, ...stack, ...devices])];
}
