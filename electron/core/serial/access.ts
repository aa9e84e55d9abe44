// Whether this user may open a serial device, and if not, which group would let them (Linux).
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';

export interface PortAccess {
  canOpen: boolean;
  /** The device's group name, e.g. "dialout" or "uucp", when known. */
  group?: string;
  /** Whether the user is already in that group (a fresh login may still be needed). */
  inGroup?: boolean;
  /** Whether joining the group would help: the group has read and write, and is not root. */
  groupCanOpen?: boolean;
}

export interface AccessProbe {
  canReadWrite(path: string): Promise<boolean>;
  ownership(path: string): Promise<{ gid: number; mode: number }>;
  groupName(gid: number): Promise<string | undefined>;
  userGroupIds(): number[];
}

export const systemAccessProbe: AccessProbe = {
  async canReadWrite(path) {
    try {
      await access(path, constants.R_OK | constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
  async ownership(path) {
    const { gid, mode } = await stat(path);
    return { gid, mode };
  },
  async groupName(gid) {
    try {
      const lines = (await readFile('/etc/group', 'utf8')).split('\n');
      return lines.map((line) => line.split(':')).find((fields) => Number(fields[2]) === gid)?.[0];
    } catch {
      return undefined;
    }
  },
  userGroupIds() {
    return process.getgroups?.() ?? [];
  },
};

export async function checkPortAccess(path: string, probe: AccessProbe = systemAccessProbe): Promise<PortAccess> {
  if (await probe.canReadWrite(path)) return { canOpen: true };
  try {
    const { gid, mode } = await probe.ownership(path);
    const groupCanOpen = gid !== 0 && (mode & 0o060) === 0o060;
    return {
      canOpen: false,
      group: await probe.groupName(gid),
      inGroup: probe.userGroupIds().includes(gid),
      groupCanOpen,
    };
  } catch {
    return { canOpen: false };
  }
}

/** One line telling the user how to get access, or undefined when they have it. */
export function accessFix(path: string, result: PortAccess): string | undefined {
  if (result.canOpen) return undefined;
  if (result.groupCanOpen === false) {
    return `Only root may open ${path}: add a udev rule giving a group access, e.g. SUBSYSTEM=="tty", GROUP="dialout", MODE="0660", then join that group`;
  }
  const group = result.group ?? 'dialout';
  if (result.inGroup)
    return `You are in the ${group} group but this session predates it: log out and back in (or reboot) to open ${path}`;
  return `Add yourself to the ${group} group: sudo usermod -aG ${group} $USER, then log out and back in`;
}
