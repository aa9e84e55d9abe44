// The config block a Makerdeck build carries: a fixed 400-byte struct in the image's flash (PROGMEM
// on AVR, rodata on ESP) that the firmware reads at boot. A build holds it blank; a release writes
// one board's values into it in memory. The layout is mirrored in firmware/config_block.h.
import { crc32 } from 'node:zlib';
import { MakerdeckError } from '../../../contract';

/** 16 ASCII bytes the host searches the image for (the firmware never spells them out elsewhere). */
export const CONFIG_MAGIC = Buffer.from('MAKERDECK:CONFIG', 'latin1');
export const CONFIG_VERSION = 1;
export const CONFIG_BLOCK_SIZE = 400;
/** Flag bits: a release sets PROVISIONED; the build's placeholder has none. */
export const FLAG_PROVISIONED = 1;
export const FLAG_MQTT_TLS = 2;

/** String fields: byte offset and capacity (the longest value is one less: NUL-terminated). */
export const STRING_FIELDS = {
  deviceId: { offset: 28, capacity: 65, label: 'device id' },
  wifiSsid: { offset: 93, capacity: 33, label: 'Wi-Fi SSID' },
  wifiPassword: { offset: 126, capacity: 64, label: 'Wi-Fi password' },
  mqttHost: { offset: 190, capacity: 64, label: 'MQTT host' },
  mqttUsername: { offset: 254, capacity: 64, label: 'MQTT username' },
  mqttPassword: { offset: 318, capacity: 64, label: 'MQTT password' },
} as const;
export type StringField = keyof typeof STRING_FIELDS;
const OFFSET = { version: 16, size: 18, flags: 20, mqttPort: 22, intervalS: 24, releaseStamp: 382, crc: 396 } as const;
/** Bytes of the release stamp: random per release, so each flash has its own CRC (the firmware drops
 * values set on the board under another release). Older firmware treats them as reserved. */
export const RELEASE_STAMP_SIZE = 8;

export type ConfigValues = Record<StringField, string> & {
  mqttPort: number;
  mqttTls: boolean;
  intervalS: number;
};

export interface DecodedBlock {
  /** False for the build's blank placeholder. */
  provisioned: boolean;
  crcOk: boolean;
  values: ConfigValues;
}

/** The CRC-32 (IEEE 802.3, as zlib and the firmware compute it) of everything before the CRC field. */
export function blockCrc(block: Uint8Array): number {
  return crc32(block.subarray(0, OFFSET.crc));
}

/**
 * The 400 bytes of a provisioned block. A value that does not fit throws one line naming the field
 * and its limit, before anything else happens. `releaseStamp` (8 bytes; zeros when left out) makes
 * this release's CRC its own.
 */
export function encodeConfigBlock(values: ConfigValues, releaseStamp?: Uint8Array): Buffer {
  const block = Buffer.alloc(CONFIG_BLOCK_SIZE);
  CONFIG_MAGIC.copy(block, 0);
  block.writeUInt16LE(CONFIG_VERSION, OFFSET.version);
  block.writeUInt16LE(CONFIG_BLOCK_SIZE, OFFSET.size);
  block.writeUInt16LE(FLAG_PROVISIONED | (values.mqttTls ? FLAG_MQTT_TLS : 0), OFFSET.flags);
  block.writeUInt16LE(checkedInt(values.mqttPort, 1, 65535, 'MQTT port'), OFFSET.mqttPort);
  block.writeUInt32LE(checkedInt(values.intervalS, 1, 86400, 'telemetry interval'), OFFSET.intervalS);
  for (const [name, field] of Object.entries(STRING_FIELDS) as Array<[StringField, StringFieldSpec]>) {
    // A lone surrogate would become U+FFFD silently: the board would get another value than the profile's.
    if (/\p{Cs}/u.test(values[name]))
      throw new MakerdeckError('BAD_INPUT', `The ${field.label} is not valid UTF-8 text: retype it in the profile`);
    const bytes = Buffer.from(values[name], 'utf8');
    if (bytes.length >= field.capacity)
      throw new MakerdeckError(
        'BAD_INPUT',
        `The ${field.label} is ${bytes.length} bytes; the firmware's config block holds at most ${field.capacity - 1}: shorten it in the profile`,
      );
    if (bytes.includes(0))
      throw new MakerdeckError('BAD_INPUT', `The ${field.label} contains a NUL byte: remove it from the profile`);
    bytes.copy(block, field.offset);
  }
  if (releaseStamp) block.set(releaseStamp.subarray(0, RELEASE_STAMP_SIZE), OFFSET.releaseStamp);
  block.writeUInt32LE(blockCrc(block), OFFSET.crc);
  return block;
}

type StringFieldSpec = (typeof STRING_FIELDS)[StringField];

function checkedInt(value: number, min: number, max: number, label: string): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new MakerdeckError('BAD_INPUT', `The ${label} must be a whole number from ${min} to ${max}`);
  return value;
}

/** Reads a block (provisioned or the blank placeholder) back into values. */
export function decodeConfigBlock(block: Uint8Array): DecodedBlock {
  const bytes = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  if (bytes.length < CONFIG_BLOCK_SIZE || !isHeader(bytes, 0))
    throw new MakerdeckError('BAD_INPUT', 'Not a Makerdeck config block (wrong magic, version or size)');
  const flags = bytes.readUInt16LE(OFFSET.flags);
  const text = (name: StringField) => {
    const { offset, capacity } = STRING_FIELDS[name];
    const field = bytes.subarray(offset, offset + capacity);
    const end = field.indexOf(0);
    return field.subarray(0, end < 0 ? capacity : end).toString('utf8');
  };
  const strings = Object.fromEntries(Object.keys(STRING_FIELDS).map((name) => [name, text(name as StringField)]));
  return {
    provisioned: (flags & FLAG_PROVISIONED) !== 0,
    crcOk: bytes.readUInt32LE(OFFSET.crc) === blockCrc(bytes),
    values: {
      ...(strings as Record<StringField, string>),
      mqttPort: bytes.readUInt16LE(OFFSET.mqttPort),
      mqttTls: (flags & FLAG_MQTT_TLS) !== 0,
      intervalS: bytes.readUInt32LE(OFFSET.intervalS),
    },
  };
}

function isHeader(image: Buffer, at: number): boolean {
  return (
    image.length - at >= CONFIG_BLOCK_SIZE &&
    image.compare(CONFIG_MAGIC, 0, CONFIG_MAGIC.length, at, at + CONFIG_MAGIC.length) === 0 &&
    image.readUInt16LE(at + OFFSET.version) === CONFIG_VERSION &&
    image.readUInt16LE(at + OFFSET.size) === CONFIG_BLOCK_SIZE
  );
}

/** A later layout: a small version above ours and a plausible size (not just the magic by chance). */
function looksNewer(image: Buffer, at: number): boolean {
  if (at + OFFSET.size + 2 > image.length) return false;
  const version = image.readUInt16LE(at + OFFSET.version);
  const size = image.readUInt16LE(at + OFFSET.size);
  return version > CONFIG_VERSION && version < 256 && size >= CONFIG_BLOCK_SIZE && size <= 4096;
}

export const NO_CONFIG_BLOCK = 'this firmware has no Makerdeck config block: build it with Makerdeck';

/** The offset of the image's one config block; one line when there is none, several, or an unknown version. */
export function locateConfigBlock(image: Uint8Array): number {
  const bytes = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const found: number[] = [];
  let other: number | undefined;
  for (let at = bytes.indexOf(CONFIG_MAGIC); at >= 0; at = bytes.indexOf(CONFIG_MAGIC, at + 1)) {
    if (isHeader(bytes, at)) found.push(at);
    else if (looksNewer(bytes, at)) other = bytes.readUInt16LE(at + OFFSET.version);
  }
  if (found.length === 1) return found[0]!;
  if (found.length > 1)
    throw new MakerdeckError(
      'BAD_INPUT',
      `this firmware holds ${found.length} Makerdeck config blocks: build it with Makerdeck`,
    );
  if (other !== undefined)
    throw new MakerdeckError(
      'BAD_INPUT',
      `this firmware's config block is version ${other}, newer than this Makerdeck knows: update Makerdeck`,
    );
  throw new MakerdeckError('BAD_INPUT', NO_CONFIG_BLOCK);
}
