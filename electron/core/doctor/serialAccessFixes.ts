// The serial check's fixes as steps a user can take offline: the exact command to join the port's
// group, a udev rules file for common USB serial chips, and driver notes for this operating system.
import type { DoctorAction } from '../../contract';
import type { PortAccess } from '../serial/access';

export interface SerialFixes {
  actions: DoctorAction[];
  notes: string[];
}

/** The USB serial chips and boards the rules file covers; no productId means every product. */
export const USB_SERIAL_CHIPS: ReadonlyArray<{ name: string; vendorId: string; productId?: string }> = [
  { name: 'WCH CH340', vendorId: '1a86', productId: '7523' },
  { name: 'WCH CH341', vendorId: '1a86', productId: '5523' },
  { name: 'WCH CH9102', vendorId: '1a86', productId: '55d4' },
  { name: 'Silicon Labs CP210x', vendorId: '10c4', productId: 'ea60' },
  { name: 'Silicon Labs CP2105', vendorId: '10c4', productId: 'ea70' },
  { name: 'FTDI FT232R', vendorId: '0403', productId: '6001' },
  { name: 'FTDI FT230X/FT231X', vendorId: '0403', productId: '6015' },
  { name: 'Arduino (every board)', vendorId: '2341' },
  { name: 'Espressif native USB (every board)', vendorId: '303a' },
];

// Below 73: systemd applies TAG+="uaccess" (access for the user at the desk) in 73-seat-late.rules.
export const UDEV_RULES_FILE = '70-makerdeck-usb-serial.rules';

/** Where the install command expects the saved rules file (a browser's default download folder). */
export const SAVED_RULES_PATH = `~/Downloads/${UDEV_RULES_FILE}`;

/**
 * The steps and notes for a serial check that is not ok. `access` is that of the port the user may not
 * open, or undefined when no port was found; nothing comes back when the port can be opened.
 */
export function serialAccessFixes(platform: NodeJS.Platform, access?: PortAccess): SerialFixes {
  if (access?.canOpen) return { actions: [], notes: [] };
  const actions = platform === 'linux' && access ? linuxAccessActions(access) : [];
  return { actions, notes: serialDriverNotes(platform) };
}

function linuxAccessActions(access: PortAccess): DoctorAction[] {
  // Already a member and the group may open the port: only a fresh login is missing.
  if (access.inGroup && access.groupCanOpen !== false) return [];
  const group = ruleGroup(access.group);
  return [
    {
      kind: 'copy',
      label: `Join the ${group} group, then log out and back in`,
      text: `sudo usermod -aG ${group} "$USER"`,
    },
    {
      kind: 'save',
      label: `udev rules: the ${group} group and the user at the desk may open common USB serial boards`,
      fileName: UDEV_RULES_FILE,
      content: udevRules(group),
    },
    {
      kind: 'copy',
      label: 'Install the saved rules file, then replug the board',
      text: `sudo cp ${SAVED_RULES_PATH} /etc/udev/rules.d/ && sudo udevadm control --reload-rules && sudo udevadm trigger`,
    },
  ];
}

/** The port's group when it is a usable name (not root, safe in a shell and a rules file), else dialout. */
function ruleGroup(group: string | undefined): string {
  return group && group !== 'root' && /^[a-z_][a-z0-9_-]{0,31}$/i.test(group) ? group : 'dialout';
}

/** The udev rules file giving `group` (and the logged-in user) read and write on the chips above. */
export function udevRules(group: string): string {
  const lines = [
    '# Made by Makerdeck: lets the group below, and the user logged in at the desk, open common USB serial boards.',
    `# Install: sudo cp ${UDEV_RULES_FILE} /etc/udev/rules.d/ && sudo udevadm control --reload-rules && sudo udevadm trigger`,
  ];
  for (const chip of USB_SERIAL_CHIPS) {
    const product = chip.productId ? `, ATTRS{idProduct}=="${chip.productId}"` : '';
    lines.push(`# ${chip.name}`);
    lines.push(
      `SUBSYSTEM=="tty", ATTRS{idVendor}=="${chip.vendorId}"${product}, MODE="0660", GROUP="${group}", TAG+="uaccess"`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Driver notes for USB serial chips on this operating system (none for others). */
export function serialDriverNotes(platform: NodeJS.Platform): string[] {
  switch (platform) {
    case 'darwin':
      return [
        "CH340 boards need no driver since macOS 11: Apple's own driver shows them as /dev/cu.usbserial-*.",
        "CH9102 and CH343 boards need WCH's CH34xVCP driver extension; after installing it, allow it in " +
          'System Settings → Privacy & Security, then replug the board.',
      ];
    case 'win32':
      return [
        'Windows Update may replace the CH340 driver with one that fails on clone chips (the port shows but ' +
          'will not open or upload): roll it back in Device Manager (the port → Properties → Driver → Roll Back ' +
          "Driver), or install WCH's CH341SER driver.",
      ];
    case 'linux':
      return [
        'A CH340 port that appears and then vanishes is usually taken by brltty (a braille display service): ' +
          'remove it (sudo apt remove brltty on Debian and Ubuntu) and replug the board.',
      ];
    default:
      return [];
  }
}
