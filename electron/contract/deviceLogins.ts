// Broker logins per device on the local stack: each board publishes only under its own id.
import { z } from 'zod';
import { DeviceId } from './profiles';

export const DeviceLoginArgs = z.object({ deviceId: DeviceId }).strict();

/** A device's login as the UI and CLI see it: never its password. */
export interface DeviceLoginView {
  deviceId: string;
  /** The broker user, "makerdeck-dev-<device id>". */
  username: string;
  /** Whether this data folder's keychain holds its password (a user without one cannot be released). */
  inKeychain: boolean;
}
