// Releasing an AVR build: the config block is written into the Intel HEX text in memory — only the
// data records that hold the block change, each with its checksum recomputed; every other line stays
// byte for byte.
import { MakerdeckError } from '../../../contract';
import { CONFIG_BLOCK_SIZE, locateConfigBlock } from './configBlock';

interface DataRecord {
  line: number;
  address: number;
  bytes: Uint8Array;
}

const MAX_HEX_IMAGE = 16 * 1024 * 1024;

/** Returns the HEX text with `block` written over the image's config block. */
export function stampHex(hex: string, block: Uint8Array): string {
  if (block.length !== CONFIG_BLOCK_SIZE) throw new Error(`a config block is ${CONFIG_BLOCK_SIZE} bytes`);
  const eol = hex.includes('\r\n') ? '\r\n' : '\n';
  const lines = hex.split(/\r?\n/);
  const records = dataRecords(lines);
  const start = locateConfigBlock(flatten(records));
  let written = 0;
  for (const record of records) {
    const from = Math.max(start, record.address);
    const to = Math.min(start + CONFIG_BLOCK_SIZE, record.address + record.bytes[0]!);
    if (from >= to) continue;
    const data = record.bytes.slice(4, 4 + record.bytes[0]!);
    data.set(block.subarray(from - start, to - start), from - record.address);
    lines[record.line] = formatRecord(record.bytes, data);
    written += to - from;
  }
  if (written !== CONFIG_BLOCK_SIZE)
    throw new MakerdeckError('BAD_INPUT', 'The HEX file holds its config block twice or in part: build it again');
  return lines.join(eol);
}

/** The data records with absolute addresses (record types 02 and 04 move the base). */
function dataRecords(lines: string[]): DataRecord[] {
  const records: DataRecord[] = [];
  let base = 0;
  for (let line = 0; line < lines.length; line++) {
    const text = lines[line]!.trim();
    if (text === '') continue;
    const bytes = decode(text, line + 1);
    const type = bytes[3]!;
    const data = bytes.subarray(4, 4 + bytes[0]!);
    const address = (bytes[1]! << 8) | bytes[2]!;
    if (type === 0) records.push({ line, address: base + address, bytes });
    else if (type === 1) break;
    else if (type === 2 || type === 4) {
      if (data.length !== 2) throw bad(line + 1, `record type ${type} must hold 2 bytes`);
      base = ((data[0]! << 8) | data[1]!) * (type === 2 ? 16 : 65536);
    }
  }
  return records;
}

function flatten(records: DataRecord[]): Uint8Array {
  const top = records.reduce((end, r) => Math.max(end, r.address + r.bytes[0]!), 0);
  if (top > MAX_HEX_IMAGE) throw new MakerdeckError('BAD_INPUT', 'The HEX file reaches past 16 MiB: not a board image');
  const image = new Uint8Array(top).fill(0xff);
  for (const r of records) image.set(r.bytes.subarray(4, 4 + r.bytes[0]!), r.address);
  return image;
}

function decode(text: string, line: number): Uint8Array {
  if (!/^:([0-9A-Fa-f]{2})+$/.test(text)) throw bad(line, 'is not a record (":" and hexadecimal)');
  const bytes = Buffer.from(text.slice(1), 'hex');
  if (bytes.length !== bytes[0]! + 5) throw bad(line, 'has the wrong length');
  if (bytes.reduce((sum, byte) => (sum + byte) & 0xff, 0) !== 0) throw bad(line, 'bad checksum');
  return new Uint8Array(bytes);
}

/** The record line with new data bytes and a recomputed checksum (upper-case, as avr-objcopy writes). */
function formatRecord(original: Uint8Array, data: Uint8Array): string {
  const bytes = [...original.subarray(0, 4), ...data];
  const checksum = (0x100 - (bytes.reduce((sum, byte) => sum + byte, 0) & 0xff)) & 0xff;
  return (
    ':' +
    Buffer.from([...bytes, checksum])
      .toString('hex')
      .toUpperCase()
  );
}

const bad = (line: number, why: string) =>
  new MakerdeckError('BAD_INPUT', `Intel HEX line ${line}: ${why} — rebuild the firmware or pick the right file`);
