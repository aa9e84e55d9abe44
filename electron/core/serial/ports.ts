// Serial port discovery: serialport's list, plus a board guess and (on Linux) an access check.
import { SerialPort } from 'serialport';
import { MakerdeckError } from '../../contract';
import { guessBoard, normaliseUsbId, type BoardGuess } from './boards';
import { checkPortAccess, type AccessProbe, type PortAccess } from './access';
import path from 'node:path';
import { listSysfsPorts } from './sysfsPorts';

export interface SerialPortInfo {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
  board?: BoardGuess;
  access?: PortAccess;
}

export interface RawPort {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
}

export type RawPortLister = () => Promise<RawPort[]>;

/**
 * The system's serial ports: serialport's list (udev on Linux), or, where udev is missing
 * (containers, WSL, minimal installs: "spawn udevadm ENOENT"), the same devices read from sysfs.
 */
export async function listRawPorts(): Promise<RawPort[]> {
  try {
    return await SerialPort.list();
  } catch (error) {
    if (process.platform !== 'linux') throw error;
    return listSysfsPorts();
  }
}

/**
 * The lister for this environment: MAKERDECK_SYSFS_ROOT reads the ports from a copy of /sys with
 * its device nodes in `<root>/dev` (a container's mounted view, or a test's stand-in of a USB board
 * being plugged in); otherwise the system's.
 */
export function portListerFor(env: NodeJS.ProcessEnv): RawPortLister {
  const root = env.MAKERDECK_SYSFS_ROOT;
  return root ? () => listSysfsPorts(root, path.join(root, 'dev')) : listRawPorts;
}

export async function listSerialPorts(
  lister: RawPortLister = listRawPorts,
  accessProbe?: AccessProbe,
): Promise<SerialPortInfo[]> {
  const raw = await lister().catch((error: unknown) => {
    throw new MakerdeckError('UNAVAILABLE', `Could not list the serial ports: ${explainListError(error)}`);
  });
  return Promise.all(
    raw.map(async (port) => {
      const vendorId = normaliseUsbId(port.vendorId);
      const productId = normaliseUsbId(port.productId);
      const info: SerialPortInfo = {
        path: port.path,
        vendorId,
        productId,
        manufacturer: port.manufacturer,
        serialNumber: port.serialNumber,
        board: guessBoard(vendorId, productId),
      };
      if (process.platform === 'linux') info.access = await checkPortAccess(port.path, accessProbe);
      return info;
    }),
  );
}

/** One line: the lister's first, without a stack. */
function explainListError(error: unknown): string {
  return String((error as { message?: unknown } | undefined)?.message ?? error).split('\n')[0]!;
}
