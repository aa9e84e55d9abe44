// How the station tells boards apart: by USB serial number and VID:PID, which a board keeps when it
// is plugged in again (on any port); clones without a serial number, or sharing one, only by the
// port they are on and the order they were plugged in.
import type { BoardIdentity } from '../../contract';

/** A USB serial port as the station sees it. */
export interface UsbPort {
  path: string;
  vendorId: string;
  productId?: string;
  serialNumber?: string;
}

export interface IdentifiedBoard {
  identity: BoardIdentity;
  /** Set when the board is told apart by port and plug order: why, for the teacher. */
  notice?: string;
}

/**
 * The board's identity. `others` are the other USB ports present now; `nextPlug` numbers the
 * boards told apart by plug order (called only for those).
 */
export async function boardIdentity(
  port: UsbPort,
  others: UsbPort[],
  nextPlug: () => Promise<number>,
): Promise<IdentifiedBoard> {
  const vidPid = `${port.vendorId}:${port.productId ?? '0000'}`;
  const serial = port.serialNumber?.trim() || undefined;
  const sharing = serial ? others.filter((o) => o.path !== port.path && o.serialNumber?.trim() === serial) : [];
  if (serial && sharing.length === 0)
    return { identity: { kind: 'usb-serial', key: `usb:${vidPid}:${serial}`, usbSerial: serial, vidPid } };
  const identity: BoardIdentity = {
    kind: 'port-order',
    key: `port:${port.path}#${await nextPlug()}`,
    ...(serial ? { usbSerial: serial } : {}),
    vidPid,
  };
  const why = serial
    ? `${sharing.length + 1} boards share USB serial ${serial}`
    : `${port.path} has no USB serial number`;
  return { identity, notice: `${why}: told apart by port and plug order (plugged in again, it gets a new seat)` };
}
