// Serial port discovery: serialport's list, plus a board guess and (on Linux) an access check.
import { SerialPort } from 'serialport';
import { MakerdeckError } from '../../contract';
import { guessBoard, normaliseUsbId, type BoardGuess } from './boards';
import { checkPortAccess, type AccessProbe, type PortAccess } from './access';

export interface SerialPortInfo {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
  board?: BoardGuess;
  access?: PortAccess;
}

export type RawPortLister = () => Promise<Array<{ path: string; vendorId?: string; productId?: string; manufacturer?: string; serialNumber?: string }>>;

export async function listSerialPorts(
  lister: RawPortLister = () => SerialPort.list(),
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

/** serialport lists Linux ports with udevadm, which containers and minimal systems often lack. */
function explainListError(error: unknown): string {
  const { code, path, message } = (error ?? {}) as { code?: string; path?: string; message?: string };
  if (code === 'ENOENT' && path === 'udevadm') return 'udevadm is not installed (install udev: sudo apt install udev)';
  return String(message ?? error).split('\n')[0]!;
}
