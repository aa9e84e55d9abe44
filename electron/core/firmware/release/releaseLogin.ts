// The broker login a release stamps. A profile whose MQTT user is its device's own login on the
// local stack (makerdeck-dev-<id>, what `profiles.save` with stackDeviceLogin sets) gets that user
// created or reused on the broker at release time, with the password the keychain holds for it.
import { MakerdeckError } from '../../../contract';

export interface DeviceLoginSource {
  /** The device's broker user name (makerdeck-dev-<id>). */
  username(deviceId: string): string;
  /** Creates or reuses the device's user on the local broker (the stack must be up). */
  ensure(deviceId: string): Promise<{ username: string; password: string }>;
  /** The device's login as the keychain holds it, without asking the broker. */
  stored(deviceId: string): Promise<{ username: string; password: string } | undefined>;
}

export interface ReleaseLogin {
  username: string;
  password: string;
  /** Set when the user could not be checked on the broker and the keychain's login is used as it is. */
  notice?: string;
}

/**
 * The device's own login when the profile uses it, else undefined (the profile's own MQTT user
 * and password are stamped). Stack down: the keychain's login, with a notice; neither: one line.
 */
export async function releaseLogin(
  logins: DeviceLoginSource | undefined,
  profile: { deviceId: string; mqttUsername: string },
): Promise<ReleaseLogin | undefined> {
  if (!logins || profile.mqttUsername !== logins.username(profile.deviceId)) return undefined;
  try {
    return await logins.ensure(profile.deviceId);
  } catch (error) {
    const why = firstLine(error);
    const stored = await logins.stored(profile.deviceId);
    if (!stored)
      throw new MakerdeckError(
        'UNAVAILABLE',
        `${profile.mqttUsername} needs the local stack to be created (${why}): start it with makerdeck stack up`,
      );
    const notice = `the broker user ${stored.username} could not be checked (${why}): the keychain's login was stamped`;
    return { ...stored, notice };
  }
}

function firstLine(error: unknown): string {
  const message = ((error as Error).message ?? String(error)).split('\n')[0]!;
  return message.replace(/: start the stack with makerdeck stack up$/, '').replace(/[.:]\s*$/, '');
}
