import { describe, expect, it } from 'vitest';
import { boardFit, boardName } from '../../electron/core/lab/boardFit';

describe('boardFit', () => {
  it('refuses an Espressif native USB board in an Uno lab, in one line with the fix', () => {
    expect(boardFit('arduino:avr:uno', { path: '/dev/ttyACM0', vendorId: '303a', productId: '1001' })).toBe(
      '/dev/ttyACM0 is an Espressif native USB (ESP32-S3/C3/C6 USB-Serial/JTAG) (USB 303a:1001), not an Arduino Uno: ' +
        'this lab flashes Arduino Uno boards, so unplug it (or make a lab for its board type)',
    );
  });

  it('refuses a genuine Arduino Uno in an ESP32 lab', () => {
    const fit = boardFit('esp32:esp32:esp32', { path: '/dev/ttyACM1', vendorId: '2341', productId: '0043' });
    expect(fit).toMatch(/^\/dev\/ttyACM1 is an Arduino board \(genuine\) \(USB 2341:0043\), not an ESP32:/);
  });

  it('lets bridge chips, unknown ids and matching boards through (the bootloader decides)', () => {
    const ports = [
      { vendorId: '1a86', productId: '7523' },
      { vendorId: '10c4', productId: 'ea60' },
      { vendorId: '0403', productId: '6001' },
      { vendorId: 'abcd', productId: '0001' },
      { vendorId: '2341', productId: '0070' }, // an Arduino Nano ESP32: not an AVR Arduino
    ];
    for (const board of ['arduino:avr:uno', 'esp32:esp32:esp32'])
      for (const port of ports)
        expect(boardFit(board, { path: '/dev/x', ...port }), `${board} ${port.vendorId}`).toBeUndefined();
    expect(boardFit('arduino:avr:uno', { path: '/dev/x', vendorId: '2341', productId: '0043' })).toBeUndefined();
    expect(boardFit('esp32:esp32:esp32', { path: '/dev/x', vendorId: '303a', productId: '1001' })).toBeUndefined();
  });

  it('names the board types', () => {
    expect(boardName('arduino:avr:nano:cpu=atmega328old')).toBe('Arduino Nano (old bootloader)');
    expect(boardName('rp2040:rp2040:pico')).toBe('rp2040:rp2040:pico');
  });
});
