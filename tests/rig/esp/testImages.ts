// Generated firmware images for the stand-in: the header fields espImageFromFile and esptool look
// at, and a body that compresses about as well as real code does (text runs between noise).

export function fakeEsp32App(size: number, seed = 1): Uint8Array {
  const bytes = firmwareBody(size, seed);
  const view = new DataView(bytes.buffer);
  bytes.set([0xe9, 4, 2, 0x20]); // magic, segments, DIO, 4 MB @ 40 MHz
  view.setUint32(4, 0x400d1234, true); // entry
  bytes.set([0xee, 0, 0, 0], 8); // WP pin, drive strengths
  view.setUint16(12, 0, true); // chip id: ESP32
  bytes.fill(0, 14, 23);
  bytes[23] = 1; // SHA-256 appended
  view.setUint32(24, 0x3f400020, true); // first segment: DROM, holding the app description
  view.setUint32(28, 0x100, true);
  view.setUint32(32, 0xabcd5432, true); // esp_app_desc_t magic
  return bytes;
}

export function fakeEsp8266Image(size: number, seed = 2): Uint8Array {
  const bytes = firmwareBody(size, seed);
  const view = new DataView(bytes.buffer);
  bytes.set([0xe9, 3, 0, 0x40]); // magic, segments, QIO, 4 MB @ 40 MHz
  view.setUint32(4, 0x40100004, true);
  view.setUint32(8, 0x40100000, true); // first segment: IRAM
  view.setUint32(12, 0x400, true);
  return bytes;
}

/** An ESP32 second-stage bootloader: an ESP32 image header without an app description. */
export function fakeEsp32Bootloader(size: number, seed = 3): Uint8Array {
  const bytes = firmwareBody(size, seed);
  const view = new DataView(bytes.buffer);
  bytes.set([0xe9, 3, 2, 0x20]);
  view.setUint32(4, 0x40080400, true);
  bytes.set([0xee, 0, 0, 0], 8);
  bytes.fill(0, 12, 24); // chip id 0 (ESP32), revisions, no hash
  view.setUint32(24, 0x3fff0030, true); // first segment: DRAM
  view.setUint32(28, 0x200, true);
  return bytes;
}

/** A merged ESP32 image as `esptool merge_bin` writes it from 0x0: erased first sector, bootloader at 0x1000, app at 0x10000. */
export function fakeEsp32Merged(size: number, seed = 3): Uint8Array {
  const bytes = new Uint8Array(size).fill(0xff);
  bytes.set(fakeEsp32Bootloader(Math.min(0x6000, size - 0x1000), seed), 0x1000);
  if (size > 0x10000) bytes.set(fakeEsp32App(size - 0x10000, seed), 0x10000);
  return bytes;
}

function firmwareBody(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const text = new TextEncoder().encode('stand-in firmware: wifi_init ok, tcpip ok, sensor loop @ 10 Hz; ');
  let state = seed >>> 0 || 1;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  };
  for (let at = 0; at < size; ) {
    const run = 64 + (random() % 192);
    const fromText = random() % 2 === 0;
    for (let i = 0; i < run && at < size; i++, at++) bytes[at] = fromText ? text[(at + seed) % text.length]! : random();
  }
  return bytes;
}
