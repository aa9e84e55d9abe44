import { describe, expect, it } from 'vitest';
import { boardIdentity, type UsbPort } from '../../electron/core/lab/boardIdentity';

const uno = (path: string, serialNumber?: string): UsbPort => ({
  path,
  vendorId: '2341',
  productId: '0043',
  serialNumber,
});

describe('boardIdentity', () => {
  it('a board with its own serial number is known by it and its VID:PID, on any port', async () => {
    let plugs = 0;
    const next = async () => ++plugs;
    const a = await boardIdentity(uno('/dev/ttyACM0', 'A1'), [uno('/dev/ttyACM1', 'B2')], next);
    const again = await boardIdentity(uno('/dev/ttyACM5', 'A1'), [], next);
    expect(a).toEqual({
      identity: { kind: 'usb-serial', key: 'usb:2341:0043:A1', usbSerial: 'A1', vidPid: '2341:0043' },
    });
    expect(again.identity.key).toBe(a.identity.key);
    expect(plugs).toBe(0);
  });

  it('a clone without a serial number is told apart by port and plug order, and says so', async () => {
    const found = await boardIdentity(uno('/dev/ttyUSB0', '  '), [], async () => 7);
    expect(found.identity).toEqual({ kind: 'port-order', key: 'port:/dev/ttyUSB0#7', vidPid: '2341:0043' });
    expect(found.notice).toMatch(/^\/dev\/ttyUSB0 has no USB serial number: told apart by port and plug order/);
  });

  it('boards sharing a serial number are told apart by port and plug order, and the notice counts them', async () => {
    const ports = [uno('/dev/ttyACM0', 'DUP'), uno('/dev/ttyACM1', 'DUP'), uno('/dev/ttyACM2', 'DUP')];
    let plugs = 0;
    const found = await Promise.all(ports.map((p) => boardIdentity(p, ports, async () => ++plugs)));
    expect(found.map((f) => f.identity.key)).toEqual([
      'port:/dev/ttyACM0#1',
      'port:/dev/ttyACM1#2',
      'port:/dev/ttyACM2#3',
    ]);
    expect(found.every((f) => f.identity.usbSerial === 'DUP')).toBe(true);
    expect(found[0]!.notice).toMatch(/^3 boards share USB serial DUP: told apart by port and plug order/);
  });
});
