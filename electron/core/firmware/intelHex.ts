// Intel HEX → a flat image. Every malformed line is an error naming the line: a flasher must never
// write a guess.
import { MakerdeckError } from '../../contract';

export interface FlashImage {
  /** Bytes from address 0 up to the last byte used; gaps are 0xFF (erased flash). */
  data: Uint8Array;
  /** Number of bytes the file actually defines. */
  used: number;
}

const bad = (line: number, why: string) =>
  new MakerdeckError('BAD_INPUT', `Intel HEX line ${line}: ${why} — rebuild the firmware or pick the right file`);

/** Parses Intel HEX (record types 00–05) for a device with `flashSize` bytes of program memory. */
export function parseIntelHex(text: string, flashSize: number): FlashImage {
  const image = new Uint8Array(flashSize).fill(0xff);
  let used = 0;
  let top = 0;
  let base = 0;
  let ended = false;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length && !ended; index++) {
    const line = lines[index]!.trim();
    const number = index + 1;
    if (line === '') continue;
    const record = decodeRecord(line, number);
    switch (record.type) {
      case 0: {
        const start = base + record.address;
        if (start + record.data.length > flashSize) {
          throw bad(
            number,
            `data at 0x${start.toString(16)} runs past the end of flash (${flashSize} bytes): the program is too big for this board`,
          );
        }
        image.set(record.data, start);
        used += record.data.length;
        top = Math.max(top, start + record.data.length);
        break;
      }
      case 1:
        ended = true;
        break;
      case 2:
        base = readWord(record, number) * 16;
        break;
      case 4:
        base = readWord(record, number) * 65536;
        break;
      case 3:
      case 5:
        break; // start address: meaningless for a bootloader upload
      default:
        throw bad(number, `unknown record type ${record.type}`);
    }
  }
  if (!ended)
    throw new MakerdeckError(
      'BAD_INPUT',
      'The Intel HEX file has no end-of-file record: it is truncated — rebuild or copy it again',
    );
  if (used === 0) throw new MakerdeckError('BAD_INPUT', 'The Intel HEX file holds no data');
  return { data: image.slice(0, top), used };
}

interface HexRecord {
  type: number;
  address: number;
  data: Uint8Array;
}

function decodeRecord(line: string, number: number): HexRecord {
  if (!line.startsWith(':')) throw bad(number, 'does not start with ":"');
  if (!/^:([0-9A-Fa-f]{2})+$/.test(line)) throw bad(number, 'is not hexadecimal');
  const bytes = Uint8Array.from(
    line
      .slice(1)
      .match(/../g)!
      .map((pair) => parseInt(pair, 16)),
  );
  const length = bytes[0]!;
  if (bytes.length !== length + 5)
    throw bad(number, `says ${length} data bytes but has ${Math.max(0, bytes.length - 5)}`);
  const sum = bytes.reduce((total, byte) => (total + byte) & 0xff, 0);
  if (sum !== 0) throw bad(number, 'bad checksum');
  return { type: bytes[3]!, address: (bytes[1]! << 8) | bytes[2]!, data: bytes.slice(4, 4 + length) };
}

function readWord(record: HexRecord, number: number): number {
  if (record.data.length !== 2) throw bad(number, `record type ${record.type} must hold 2 bytes`);
  return (record.data[0]! << 8) | record.data[1]!;
}

/** Writes an image as Intel HEX (16 bytes a line), e.g. for tests and benchmarks. */
export function toIntelHex(data: Uint8Array): string {
  const lines: string[] = [];
  for (let offset = 0; offset < data.length; offset += 16) {
    if (offset % 0x10000 === 0 && offset > 0)
      lines.push(formatRecord(4, 0, Uint8Array.of(offset >> 24, (offset >> 16) & 0xff)));
    lines.push(formatRecord(0, offset & 0xffff, data.subarray(offset, offset + 16)));
  }
  lines.push(':00000001FF');
  return lines.join('\n') + '\n';
}

function formatRecord(type: number, address: number, data: Uint8Array): string {
  const bytes = [data.length, address >> 8, address & 0xff, type, ...data];
  const checksum = (0x100 - (bytes.reduce((total, byte) => total + byte, 0) & 0xff)) & 0xff;
  return ':' + [...bytes, checksum].map((byte) => byte.toString(16).padStart(2, '0').toUpperCase()).join('');
}
