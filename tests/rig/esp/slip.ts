// SLIP framing (RFC 1055) as Espressif's serial protocol uses it: every packet between two 0xC0
// bytes, 0xC0 sent as DB DC and 0xDB as DB DD. Written apart from esptool-js so the stand-in does not
// share its bugs.
export const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

export function slipEncode(packet: Uint8Array): Uint8Array {
  const out: number[] = [END];
  for (const byte of packet) {
    if (byte === END) out.push(ESC, ESC_END);
    else if (byte === ESC) out.push(ESC, ESC_ESC);
    else out.push(byte);
  }
  out.push(END);
  return Uint8Array.from(out);
}

/** Collects frames from a byte stream; bytes outside a frame (noise, boot text) are dropped, as the ROM does. */
export class SlipDecoder {
  private frame: number[] | undefined;
  private escaping = false;

  push(bytes: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const byte of bytes) {
      const done = this.take(byte);
      if (done && done.length > 0) frames.push(done);
    }
    return frames;
  }

  reset(): void {
    this.frame = undefined;
    this.escaping = false;
  }

  private take(byte: number): Uint8Array | undefined {
    if (byte === END) {
      const done = this.frame;
      this.frame = [];
      this.escaping = false;
      return done ? Uint8Array.from(done) : undefined;
    }
    if (!this.frame) return undefined;
    if (this.escaping) {
      this.escaping = false;
      if (byte === ESC_END) this.frame.push(END);
      else if (byte === ESC_ESC) this.frame.push(ESC);
      else this.frame = undefined; // a broken escape: drop the frame until the next 0xC0
      return undefined;
    }
    if (byte === ESC) this.escaping = true;
    else this.frame.push(byte);
    return undefined;
  }
}
