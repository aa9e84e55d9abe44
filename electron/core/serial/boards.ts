// Guess the USB-serial adapter or board from a port's USB vendor and product IDs.

export interface BoardGuess {
  /** Short adapter name, e.g. "CH340". */
  adapter: string;
  /** What a maker would call it, e.g. "CH340 USB-serial (clone Uno/Nano, many ESP boards)". */
  label: string;
  /** native-usb: the chip itself speaks USB (no reset via DTR/RTS on some); usb-serial: a bridge chip. */
  kind: 'usb-serial' | 'native-usb';
}

interface Rule {
  vid: string;
  /** Any product of the vendor when absent. */
  pids?: string[];
  guess: BoardGuess;
}

const bridge = (adapter: string, label: string): BoardGuess => ({ adapter, label, kind: 'usb-serial' });
const native = (adapter: string, label: string): BoardGuess => ({ adapter, label, kind: 'native-usb' });

const RULES: Rule[] = [
  {
    vid: '1a86',
    pids: ['7523', '5523', '7522'],
    guess: bridge('CH340', 'CH340 USB-serial (clone Uno/Nano, many ESP8266/ESP32 boards)'),
  },
  { vid: '1a86', pids: ['55d4', '55d3'], guess: bridge('CH9102', 'CH9102 USB-serial (newer ESP32 boards)') },
  { vid: '1a86', guess: bridge('WCH', 'WCH USB-serial adapter') },
  {
    vid: '10c4',
    pids: ['ea60', 'ea70', 'ea71'],
    guess: bridge('CP210x', 'Silicon Labs CP210x USB-serial (ESP32 DevKit, NodeMCU)'),
  },
  { vid: '0403', guess: bridge('FTDI', 'FTDI USB-serial (Arduino Nano/Pro Mini adapters)') },
  { vid: '2341', guess: native('Arduino', 'Arduino board (genuine)') },
  { vid: '2a03', guess: native('Arduino', 'Arduino board (arduino.org)') },
  { vid: '1b4f', guess: native('SparkFun', 'SparkFun board') },
  { vid: '239a', guess: native('Adafruit', 'Adafruit board') },
  {
    vid: '303a',
    pids: ['1001'],
    guess: native('Espressif USB', 'Espressif native USB (ESP32-S3/C3/C6 USB-Serial/JTAG)'),
  },
  { vid: '303a', guess: native('Espressif USB', 'Espressif native USB') },
  { vid: '067b', guess: bridge('PL2303', 'Prolific PL2303 USB-serial') },
];

/** IDs as serialport reports them: hex strings, any case, sometimes with 0x. */
export function normaliseUsbId(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const hex = id.toLowerCase().replace(/^0x/, '');
  return /^[0-9a-f]{1,4}$/.test(hex) ? hex.padStart(4, '0') : undefined;
}

export function guessBoard(vendorId: string | undefined, productId: string | undefined): BoardGuess | undefined {
  const vid = normaliseUsbId(vendorId);
  const pid = normaliseUsbId(productId);
  if (!vid) return undefined;
  return RULES.find((rule) => rule.vid === vid && (!rule.pids || (pid !== undefined && rule.pids.includes(pid))))
    ?.guess;
}
