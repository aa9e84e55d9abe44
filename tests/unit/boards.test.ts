import { describe, expect, it } from 'vitest';
import { guessBoard, normaliseUsbId } from '../../electron/core/serial/boards';

describe('guessBoard', () => {
  it.each([
    ['1a86', '7523', 'CH340'],
    ['1A86', '55D4', 'CH9102'],
    ['10c4', 'ea60', 'CP210x'],
    ['0403', '6001', 'FTDI'],
    ['0403', '6015', 'FTDI'],
    ['2341', '0043', 'Arduino'],
    ['2341', '0058', 'Arduino'],
    ['303a', '1001', 'Espressif USB'],
    ['0x303a', '0x0002', 'Espressif USB'],
  ])('%s:%s is %s', (vid, pid, adapter) => {
    expect(guessBoard(vid, pid)?.adapter).toBe(adapter);
  });

  it('tells a bridge chip from native USB', () => {
    expect(guessBoard('1a86', '7523')?.kind).toBe('usb-serial');
    expect(guessBoard('303a', '1001')?.kind).toBe('native-usb');
  });

  it('returns nothing for unknown or missing IDs', () => {
    expect(guessBoard('dead', 'beef')).toBeUndefined();
    expect(guessBoard(undefined, undefined)).toBeUndefined();
    expect(guessBoard('not-hex', '1')).toBeUndefined();
  });

  it('normalises IDs to four lower-case hex digits', () => {
    expect(normaliseUsbId('0x2A03')).toBe('2a03');
    expect(normaliseUsbId('43')).toBe('0043');
    expect(normaliseUsbId('12345')).toBeUndefined();
  });
});
