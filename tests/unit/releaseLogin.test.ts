// The choice of login a release stamps, over stand-in login sources (the real DeviceAccounts on the
// real RabbitMQ is in tests/integration/deviceAccounts.test.ts).
import { describe, expect, it } from 'vitest';
import { MakerdeckError } from '../../electron/contract';
import { releaseLogin, type DeviceLoginSource } from '../../electron/core/firmware/release/releaseLogin';

function standIn(opts: { brokerUp: boolean; stored?: string }): DeviceLoginSource & { ensured: string[] } {
  const ensured: string[] = [];
  return {
    ensured,
    username: (id) => `makerdeck-dev-${id}`,
    ensure: async (id) => {
      if (!opts.brokerUp)
        throw new MakerdeckError(
          'UNAVAILABLE',
          'Cannot reach the RabbitMQ management API at http://127.0.0.1:15672 (fetch failed): ' +
            'start the stack with makerdeck stack up',
        );
      ensured.push(id);
      return { username: `makerdeck-dev-${id}`, password: opts.stored ?? 'new-password' };
    },
    stored: async (id) => (opts.stored ? { username: `makerdeck-dev-${id}`, password: opts.stored } : undefined),
  };
}

describe('releaseLogin (stand-in login sources)', () => {
  it('leaves a profile with its own MQTT user alone (nothing is asked of the broker)', async () => {
    const source = standIn({ brokerUp: true });
    expect(await releaseLogin(source, { deviceId: 'desk-1', mqttUsername: 'someone' })).toBeUndefined();
    expect(await releaseLogin(source, { deviceId: 'desk-1', mqttUsername: '' })).toBeUndefined();
    expect(await releaseLogin(undefined, { deviceId: 'desk-1', mqttUsername: 'makerdeck-dev-desk-1' })).toBeUndefined();
    expect(source.ensured).toEqual([]);
  });

  it("ensures the device's own user when the profile logs in as it", async () => {
    const source = standIn({ brokerUp: true, stored: 'kept' });
    const login = await releaseLogin(source, { deviceId: 'desk-1', mqttUsername: 'makerdeck-dev-desk-1' });
    expect(login).toEqual({ username: 'makerdeck-dev-desk-1', password: 'kept' });
    expect(source.ensured).toEqual(['desk-1']);
  });

  it("uses the keychain's login with a notice when the broker is down", async () => {
    const login = await releaseLogin(standIn({ brokerUp: false, stored: 'kept' }), {
      deviceId: 'desk-1',
      mqttUsername: 'makerdeck-dev-desk-1',
    });
    expect(login).toEqual({
      username: 'makerdeck-dev-desk-1',
      password: 'kept',
      notice:
        'the broker user makerdeck-dev-desk-1 could not be checked (Cannot reach the RabbitMQ management API at ' +
        "http://127.0.0.1:15672 (fetch failed)): the keychain's login was stamped",
    });
  });

  it('is one line with the fix when there is neither broker nor keychain login', async () => {
    const attempt = releaseLogin(standIn({ brokerUp: false }), {
      deviceId: 'desk-1',
      mqttUsername: 'makerdeck-dev-desk-1',
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message:
        'makerdeck-dev-desk-1 needs the local stack to be created (Cannot reach the RabbitMQ management API at ' +
        'http://127.0.0.1:15672 (fetch failed)): start it with makerdeck stack up',
    });
  });
});
