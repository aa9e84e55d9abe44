import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listSysfsPorts } from '../../electron/core/serial/sysfsPorts';

/** A fixture copy of the sysfs layout: one CH340 on USB, one 8250 UART, one empty 8250 slot, one pty. */
function fixtureSysfs(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-sysfs-'));
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), `${text}\n`);
  };
  const usb = 'devices/pci0000:00/0000:00:14.0/usb1/1-2';
  write(`${usb}/idVendor`, '1a86');
  write(`${usb}/idProduct`, '7523');
  write(`${usb}/manufacturer`, 'QinHeng Electronics');
  write(`${usb}/serial`, 'A5069RR4');
  write(`${usb}/1-2:1.0/ttyUSB0/uevent`, 'DEVNAME=ttyUSB0');
  write('devices/pnp0/00:00/uevent', '');
  write('devices/platform/serial8250/uevent', '');
  const tty = (name: string, device: string | undefined, type?: string) => {
    mkdirSync(path.join(root, 'class/tty', name), { recursive: true });
    if (device) symlinkSync(path.join(root, device), path.join(root, 'class/tty', name, 'device'));
    if (type !== undefined) write(`class/tty/${name}/type`, type);
  };
  tty('ttyUSB0', `${usb}/1-2:1.0/ttyUSB0`);
  tty('ttyS0', 'devices/pnp0/00:00', '4');
  tty('ttyS1', 'devices/platform/serial8250', '0');
  tty('tty0', undefined);
  tty('ptmx', undefined);
  return root;
}

describe('listSysfsPorts (fixture sysfs tree)', () => {
  const root = fixtureSysfs();
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lists real serial devices with their USB identity, skipping empty UART slots and virtual ttys', async () => {
    expect(await listSysfsPorts(root)).toEqual([
      { path: '/dev/ttyS0' },
      {
        path: '/dev/ttyUSB0',
        vendorId: '1a86',
        productId: '7523',
        manufacturer: 'QinHeng Electronics',
        serialNumber: 'A5069RR4',
      },
    ]);
  });
});

describe("listSysfsPorts (this machine's /sys)", () => {
  it('lists every tty in /sys/class/tty that has a device and is not an empty UART slot', async () => {
    const expected = readdirSync('/sys/class/tty')
      .filter((name) => /^tty(S|ACM|USB|AMA)\d+$/.test(name))
      .filter((name) => {
        try {
          readdirSync(`/sys/class/tty/${name}/device`);
        } catch {
          return false;
        }
        return !name.startsWith('ttyS') || readFileSync(`/sys/class/tty/${name}/type`, 'utf8').trim() !== '0';
      })
      .map((name) => `/dev/${name}`)
      .sort();
    expect((await listSysfsPorts()).map((port) => port.path)).toEqual(expected);
  });
});
