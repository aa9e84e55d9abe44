// An ESP32 app image made by PyPI's esptool (elf2image) from a small ELF written here: no ESP
// compiler is needed, and the image's layout (segment order, padding, checksum, SHA-256) is
// esptool's own, not ours. The ELF carries an app description (so Makerdeck takes it for an app,
// flashed at 0x10000) and a build's blank config block inside its rodata.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { esp32Rig } from './esp32Qemu';

// Sections at the ESP32's flash-mapped (DROM, IROM) and RAM addresses; fixed pseudo-random contents.
const MAKE_ELF = String.raw`
import random, struct, sys
out, block_at = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
blank = bytearray(400); blank[0:16] = b'MAKERDECK:CONFIG'; struct.pack_into('<HH', blank, 16, 1, 400)
appdesc = bytearray(256); struct.pack_into('<I', appdesc, 0, 0xABCD5432)
appdesc[16:48] = b'makerdeck-test'.ljust(32, b'\0'); appdesc[48:80] = b'firmware'.ljust(32, b'\0')
rodata = bytearray(rng.randbytes(0x2000)); rodata[block_at:block_at + 400] = blank
sections = [
    (b'.flash.appdesc', 0x3F400020, bytes(appdesc), 2),
    (b'.flash.rodata', 0x3F400120, bytes(rodata), 2),
    (b'.flash.text', 0x400D0020, rng.randbytes(0x3000), 6),
    (b'.dram0.data', 0x3FFB0000, rng.randbytes(0x400), 3),
    (b'.iram0.text', 0x40080000, rng.randbytes(0x800), 6),
]
names = b'\0' + b''.join(s[0] + b'\0' for s in sections) + b'.shstrtab\0'
data_at = 52 + 32 * len(sections); body = b''; placed = []
for name, addr, data, flags in sections:
    placed.append(data_at + len(body)); body += data + b'\0' * (-len(data) % 4)
names_at = data_at + len(body); body += names + b'\0' * (-len(names) % 4)
headers_at = data_at + len(body)
program = b''.join(struct.pack('<8I', 1, p, s[1], s[1], len(s[2]), len(s[2]), 5 if s[3] == 6 else 6, 4)
                   for s, p in zip(sections, placed))
table, name_at = bytes(40), 1
for s, p in zip(sections, placed):
    table += struct.pack('<10I', name_at, 1, s[3], s[1], p, len(s[2]), 0, 0, 4, 0); name_at += len(s[0]) + 1
table += struct.pack('<10I', name_at, 3, 0, 0, names_at, len(names), 0, 0, 1, 0)
header = b'\x7fELF\x01\x01\x01' + bytes(9) + struct.pack('<HHIIIIIHHHHHH', 2, 0x5E, 1, 0x40080000, 52,
    headers_at, 0x300, 52, 32, len(sections), 40, len(sections) + 2, len(sections) + 1)
open(out, 'wb').write(header + program + body + table)
`;

/** Where the blank block sits in the rodata section (not aligned, as a linker may place it). */
export const BLOCK_IN_RODATA = 0x321;

function python(args: string[]): Promise<string> {
  const { esptoolPython } = esp32Rig();
  return new Promise((resolve, reject) =>
    execFile(esptoolPython, args, (error, stdout, stderr) =>
      error ? reject(new Error(`${args.slice(0, 3).join(' ')} failed: ${stderr || error.message}`)) : resolve(stdout),
    ),
  );
}

/** Writes `app.elf` and esptool's `app.bin` into `dir`; returns the image file and its bytes. */
export async function esp32AppImage(dir: string): Promise<{ file: string; bytes: Buffer }> {
  const elf = path.join(dir, 'app.elf');
  const file = path.join(dir, 'app.bin');
  await python(['-c', MAKE_ELF, elf, String(BLOCK_IN_RODATA)]);
  await python(
    ['-m', 'esptool', '--chip', 'esp32', 'elf2image', '--flash_mode', 'dio', '--flash_size', '4MB'].concat([
      '-o',
      file,
      elf,
    ]),
  );
  return { file, bytes: readFileSync(file) };
}

/** What esptool's `image_info --version 2` says of an image's checksum and validation hash. */
export async function esptoolImageInfo(file: string): Promise<{ checksum?: string; hash?: string; text: string }> {
  const text = await python(['-m', 'esptool', '--chip', 'esp32', 'image_info', '--version', '2', file]);
  return {
    checksum: /^Checksum: 0x[0-9a-f]{1,2} \((\w+)\)/m.exec(text)?.[1],
    hash: /^Validation hash: [0-9a-f]{64} \((\w+)\)/m.exec(text)?.[1],
    text,
  };
}
