import { describe, expect, it } from 'vitest';
import { accessFix, checkPortAccess, type AccessProbe } from '../../electron/core/serial/access';

// Stand-in probe: the user-and-group situations cannot all be produced on one machine as root.
// The real probe is exercised by the integration test that runs the doctor as user "nobody".
function standInProbe(canOpen: boolean, gid: number, userGroups: number[], mode = 0o20660): AccessProbe {
  return {
    canReadWrite: async () => canOpen,
    ownership: async () => ({ gid, mode }),
    groupName: async (id) => (id === 20 ? 'dialout' : id === 14 ? 'uucp' : undefined),
    userGroupIds: () => userGroups,
  };
}

describe('serial port access (stand-in probe)', () => {
  it('says nothing when the port can be opened', async () => {
    const result = await checkPortAccess('/dev/ttyUSB0', standInProbe(true, 20, []));
    expect(result).toEqual({ canOpen: true });
    expect(accessFix('/dev/ttyUSB0', result)).toBeUndefined();
  });

  it('names the device group and the usermod fix when the user is not in it', async () => {
    const result = await checkPortAccess('/dev/ttyUSB0', standInProbe(false, 20, [1000]));
    expect(result).toEqual({ canOpen: false, group: 'dialout', inGroup: false, groupCanOpen: true });
    expect(accessFix('/dev/ttyUSB0', result)).toBe(
      'Add yourself to the dialout group: sudo usermod -aG dialout $USER, then log out and back in',
    );
  });

  it("uses the distribution's own group name (uucp on Arch)", async () => {
    const result = await checkPortAccess('/dev/ttyACM0', standInProbe(false, 14, []));
    expect(accessFix('/dev/ttyACM0', result)).toContain('uucp group');
  });

  it('asks for a fresh login when the user joined the group already', async () => {
    const result = await checkPortAccess('/dev/ttyACM0', standInProbe(false, 20, [20]));
    expect(accessFix('/dev/ttyACM0', result)).toMatch(/log out and back in/);
    expect(accessFix('/dev/ttyACM0', result)).toMatch(/predates/);
  });

  it('suggests a udev rule when only root may open the port (group root, or no group access)', async () => {
    for (const probe of [standInProbe(false, 0, [], 0o20660), standInProbe(false, 20, [], 0o20600)]) {
      const fix = accessFix('/dev/ttyS0', await checkPortAccess('/dev/ttyS0', probe));
      expect(fix).toMatch(/^Only root may open \/dev\/ttyS0: add a udev rule/);
    }
  });
});
