import { describe, expect, it } from 'vitest';
import type { DoctorAction } from '../../electron/contract';
import {
  serialAccessFixes,
  serialDriverNotes,
  UDEV_RULES_FILE,
  udevRules,
  USB_SERIAL_CHIPS,
} from '../../electron/core/doctor/serialAccessFixes';

const copies = (actions: DoctorAction[]) => actions.flatMap((a) => (a.kind === 'copy' ? [a.text] : []));
const saves = (actions: DoctorAction[]) => actions.filter((a) => a.kind === 'save');

describe('serial access fixes', () => {
  it('gives the exact usermod command for the dialout group, the rules file and its install command', () => {
    const { actions } = serialAccessFixes('linux', {
      canOpen: false,
      group: 'dialout',
      inGroup: false,
      groupCanOpen: true,
    });
    expect(copies(actions)).toEqual([
      'sudo usermod -aG dialout "$USER"',
      `sudo cp ~/Downloads/${UDEV_RULES_FILE} /etc/udev/rules.d/ && sudo udevadm control --reload-rules && sudo udevadm trigger`,
    ]);
    expect(actions[0]!.label).toMatch(/log out and back in/);
    expect(saves(actions)).toEqual([
      expect.objectContaining({ fileName: UDEV_RULES_FILE, content: udevRules('dialout') }),
    ]);
  });

  it("uses the port's own group (uucp on Arch) in the command and in every rule", () => {
    const { actions } = serialAccessFixes('linux', {
      canOpen: false,
      group: 'uucp',
      inGroup: false,
      groupCanOpen: true,
    });
    expect(copies(actions)[0]).toBe('sudo usermod -aG uucp "$USER"');
    const rules = saves(actions)[0]!;
    expect(rules.kind === 'save' && rules.content).toContain('GROUP="uucp"');
    expect(rules.kind === 'save' && rules.content).not.toContain('dialout');
  });

  it('falls back to dialout when the port belongs to root, its group is unknown, or the name is unsafe', () => {
    for (const group of ['root', undefined, 'x"; rm -rf ~ #']) {
      const { actions } = serialAccessFixes('linux', { canOpen: false, group, inGroup: false, groupCanOpen: false });
      expect(copies(actions)[0]).toBe('sudo usermod -aG dialout "$USER"');
    }
  });

  it('offers no command when the user is in the group already (only a fresh login is missing)', () => {
    const fixes = serialAccessFixes('linux', { canOpen: false, group: 'dialout', inGroup: true, groupCanOpen: true });
    expect(fixes.actions).toEqual([]);
  });

  it('produces nothing when the port can be opened', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(serialAccessFixes(platform, { canOpen: true })).toEqual({ actions: [], notes: [] });
    }
  });

  it('has no access commands off Linux, but the notes for that system', () => {
    expect(serialAccessFixes('darwin', { canOpen: false })).toEqual({
      actions: [],
      notes: serialDriverNotes('darwin'),
    });
    expect(serialAccessFixes('win32')).toEqual({ actions: [], notes: serialDriverNotes('win32') });
  });

  it('writes one rule per chip with every VID:PID, mode 0660, the group and uaccess', () => {
    const rules = udevRules('dialout')
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('#'));
    const expected = [
      '1a86:7523',
      '1a86:5523',
      '1a86:55d4',
      '10c4:ea60',
      '10c4:ea70',
      '0403:6001',
      '0403:6015',
      '2341:*',
      '303a:*',
    ];
    expect(rules).toHaveLength(expected.length);
    expect(USB_SERIAL_CHIPS.map((c) => `${c.vendorId}:${c.productId ?? '*'}`)).toEqual(expected);
    for (const [i, id] of expected.entries()) {
      const [vendor, product] = id.split(':');
      const productMatch = product === '*' ? '' : `, ATTRS{idProduct}=="${product}"`;
      expect(rules[i]).toBe(
        `SUBSYSTEM=="tty", ATTRS{idVendor}=="${vendor}"${productMatch}, MODE="0660", GROUP="dialout", TAG+="uaccess"`,
      );
    }
  });

  it('gives each system only its own driver notes', () => {
    const mac = serialDriverNotes('darwin').join(' ');
    expect(mac).toMatch(/macOS 11/);
    expect(mac).toMatch(/CH34xVCP/);
    expect(mac).toMatch(/Privacy & Security/);
    const windows = serialDriverNotes('win32').join(' ');
    expect(windows).toMatch(/Windows Update/);
    expect(windows).toMatch(/Roll Back Driver/);
    expect(windows).toMatch(/CH341SER/);
    const linux = serialDriverNotes('linux').join(' ');
    expect(linux).toMatch(/sudo apt remove brltty/);
    expect(linux).not.toMatch(/Windows|macOS/);
    expect(mac).not.toMatch(/brltty|Windows/);
    expect(serialDriverNotes('freebsd')).toEqual([]);
  });
});
