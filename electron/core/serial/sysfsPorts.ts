// Serial ports read straight from Linux sysfs, for machines without udev (containers, WSL, minimal
// installs), where serialport's list fails with "spawn udevadm ENOENT".
import { readFile, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { RawPort } from './ports';

/** The device names serialport lists on Linux (its udev filter), so both listers agree. */
const SERIAL_NAME = /^(tty(S|WCH|ACM|USB|AMA|MFD|O|XRUSB)\d+|rfcomm\d+)$/;

async function readAttribute(dir: string, name: string): Promise<string | undefined> {
  try {
    return (await readFile(path.join(dir, name), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The nearest ancestor of a tty's device that is a USB device (it has idVendor), if any. */
async function usbDeviceDir(deviceDir: string): Promise<string | undefined> {
  // A USB serial tty sits a few levels below its USB device (interface, then the port itself).
  for (let dir = deviceDir, depth = 0; depth < 6 && dir !== path.dirname(dir); dir = path.dirname(dir), depth++) {
    if (await readAttribute(dir, 'idVendor')) return dir;
  }
  return undefined;
}

async function describe(classDir: string, name: string, devDir: string): Promise<RawPort | undefined> {
  const entry = path.join(classDir, name);
  // Virtual terminals and ptys have no device behind them; an 8250 slot with type 0 is an empty one.
  const deviceDir = await realpath(path.join(entry, 'device')).catch(() => undefined);
  if (!deviceDir) return undefined;
  if (name.startsWith('ttyS') && (await readAttribute(entry, 'type')) === '0') return undefined;
  const port: RawPort = { path: path.join(devDir, name) };
  const usb = await usbDeviceDir(deviceDir);
  if (usb) {
    port.vendorId = await readAttribute(usb, 'idVendor');
    port.productId = await readAttribute(usb, 'idProduct');
    port.manufacturer = await readAttribute(usb, 'manufacturer');
    port.serialNumber = await readAttribute(usb, 'serial');
  }
  return port;
}

/**
 * Lists serial devices from `/sys/class/tty` (or a copy of it under `sysRoot`, its device nodes in
 * `devDir`), with USB vendor, product, manufacturer and serial number read from the USB device the
 * tty hangs off.
 */
export async function listSysfsPorts(sysRoot = '/sys', devDir = '/dev'): Promise<RawPort[]> {
  const classDir = path.join(sysRoot, 'class', 'tty');
  const names = (await readdir(classDir)).filter((name) => SERIAL_NAME.test(name)).sort();
  const ports = await Promise.all(names.map((name) => describe(classDir, name, devDir)));
  return ports.filter((port): port is RawPort => port !== undefined);
}
