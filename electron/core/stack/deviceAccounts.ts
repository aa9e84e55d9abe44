// One broker login per device on the local stack: a RabbitMQ user that may publish only to
// makerdeck/<id>/telemetry and makerdeck/<id>/status, its random password in this data folder's
// part of the keychain. A user and its keychain entry are made together or not at all, and each
// device is rotated or revoked alone.
import { DEVICE_ID_PATTERN, MakerdeckError, type DeviceLoginView } from '../../contract';
import { deviceAccount } from '../secrets/accounts';
import type { FolderKeychain } from '../secrets/folderKeychain';
import { generateSecret } from '../secrets/stackCredentials';
import type { FolderLock } from '../settings/folderLock';
import {
  DEVICE_USER_PREFIX,
  closeConnections,
  deleteUser,
  deviceUser,
  listUsers,
  putDeviceUser,
  userExists,
  type BrokerAdmin,
} from './brokerUsers';

export interface DeviceLogin {
  username: string;
  password: string;
}

export interface DeviceAccountsDeps {
  keychain: FolderKeychain;
  lock: FolderLock;
  /** The local broker's management API with the admin login (the stack must be up). */
  admin(): Promise<BrokerAdmin>;
}

function checkId(deviceId: string): void {
  if (!DEVICE_ID_PATTERN.test(deviceId))
    throw new MakerdeckError('BAD_INPUT', `"${deviceId}" is not a device id: use letters, digits, _ and - (up to 64)`);
}

export class DeviceAccounts {
  constructor(private readonly deps: DeviceAccountsDeps) {}

  /**
   * The device's login, created now if it has none (the release step calls this). An existing one
   * is reused with its password, and its user and permissions are set again on the broker.
   */
  ensure(deviceId: string): Promise<DeviceLogin> {
    checkId(deviceId);
    return this.deps.lock.hold(async () => {
      const admin = await this.deps.admin();
      const existing = await this.deps.keychain.get(deviceAccount(deviceId));
      if (existing !== undefined) {
        await putDeviceUser(admin, deviceId, existing);
        return { username: deviceUser(deviceId), password: existing };
      }
      return this.create(admin, deviceId, generateSecret());
    });
  }

  /** The device's broker user name (makerdeck-dev-<id>). */
  username(deviceId: string): string {
    return deviceUser(deviceId);
  }

  /** The device's login as the keychain holds it, without asking the broker (it may be down). */
  async stored(deviceId: string): Promise<DeviceLogin | undefined> {
    checkId(deviceId);
    const password = await this.deps.keychain.get(deviceAccount(deviceId));
    return password === undefined ? undefined : { username: deviceUser(deviceId), password };
  }

  /** A new password for this device only; its open sessions are closed. */
  rotate(deviceId: string): Promise<DeviceLogin> {
    checkId(deviceId);
    return this.deps.lock.hold(async () => {
      const admin = await this.deps.admin();
      const old = await this.deps.keychain.get(deviceAccount(deviceId));
      if (old === undefined || !(await userExists(admin, deviceUser(deviceId))))
        throw new MakerdeckError(
          'NOT_FOUND',
          `${deviceId} has no broker login: makerdeck device login create ${deviceId}`,
        );
      const password = generateSecret();
      await putDeviceUser(admin, deviceId, password);
      try {
        await this.deps.keychain.set(deviceAccount(deviceId), password);
      } catch (error) {
        await putDeviceUser(admin, deviceId, old); // the board keeps working with the password it has
        throw error;
      }
      await closeConnections(admin, deviceUser(deviceId));
      return { username: deviceUser(deviceId), password };
    });
  }

  /** Deletes this device's user (closing its sessions) and its keychain entry; true if it had either. */
  async revoke(deviceId: string): Promise<boolean> {
    const { brokerUser, keychainEntry } = await this.withdraw(deviceId);
    return brokerUser || keychainEntry;
  }

  /**
   * Like revoke, saying which of the two it found. The broker user goes first: a keychain entry is
   * never deleted while its user lives on (a failure in between leaves the entry for the next try).
   */
  withdraw(deviceId: string): Promise<{ brokerUser: boolean; keychainEntry: boolean }> {
    checkId(deviceId);
    return this.deps.lock.hold(async () => {
      const admin = await this.deps.admin();
      const brokerUser = await deleteUser(admin, deviceUser(deviceId));
      await closeConnections(admin, deviceUser(deviceId));
      return { brokerUser, keychainEntry: await this.deps.keychain.delete(deviceAccount(deviceId)) };
    });
  }

  /** The devices with a user on the broker, and whether the keychain holds each one's password. */
  async list(): Promise<DeviceLoginView[]> {
    const users = (await listUsers(await this.deps.admin())).filter((name) => name.startsWith(DEVICE_USER_PREFIX));
    const views: DeviceLoginView[] = [];
    for (const username of users.sort()) {
      const deviceId = username.slice(DEVICE_USER_PREFIX.length);
      const inKeychain = (await this.deps.keychain.get(deviceAccount(deviceId))) !== undefined;
      views.push({ deviceId, username, inKeychain });
    }
    return views;
  }

  /** Broker first, then the keychain; a failed keychain write deletes the new user again. */
  private async create(admin: BrokerAdmin, deviceId: string, password: string): Promise<DeviceLogin> {
    const username = deviceUser(deviceId);
    try {
      await putDeviceUser(admin, deviceId, password);
      await this.deps.keychain.set(deviceAccount(deviceId), password);
    } catch (error) {
      await deleteUser(admin, username).catch(() => undefined);
      await this.deps.keychain.delete(deviceAccount(deviceId)).catch(() => undefined);
      throw error;
    }
    return { username, password };
  }
}
