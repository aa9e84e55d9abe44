// A self-signed X.509 certificate for `makerdeck serve --allow-remote`, made in memory for each run:
// an ECDSA P-256 key from node:crypto and a small DER encoder for the certificate around it, so no
// external tool or package is needed and the private key never touches a file. Browsers warn about
// any self-signed certificate; the printed SHA-256 fingerprint is what the user compares.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

export interface TlsIdentity {
  /** PEM, for https.createServer. */
  key: string;
  cert: string;
  /** SHA-256 of the certificate, "AB:CD:…" as browsers show it. */
  fingerprint256: string;
  /** base64 SHA-256 of the public key (SPKI): what curl --pinnedpubkey and Chromium's SPKI list take. */
  spkiSha256: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Makes a key and a certificate valid for `names` (host names and IP addresses, no brackets) for
 * `validDays`, signed by its own key.
 */
export function selfSignedCertificate(names: string[], validDays = 365, now = new Date()): TlsIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const tbs = tbsCertificate(names, spki, now, validDays);
  const der = seq(tbs, ECDSA_SHA256, bitString(sign('sha256', tbs, privateKey)));
  const certificate = new X509Certificate(der);
  return {
    key: pemKey(privateKey),
    cert: certificate.toString(),
    fingerprint256: certificate.fingerprint256,
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
  };
}

function tbsCertificate(names: string[], spki: Buffer, now: Date, validDays: number): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive and minimal in DER
  const commonName = Buffer.from(`Makerdeck ${names[0] ?? 'serve'}`.slice(0, 64), 'utf8');
  const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, commonName))));
  const validity = seq(time(new Date(now.getTime() - DAY_MS)), time(new Date(now.getTime() + validDays * DAY_MS)));
  const extensions = seq(
    extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))), // keyUsage: digitalSignature
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.17', false, seq(...names.map(altName))), // subjectAltName
  );
  const version = tlv(0xa0, integer(Buffer.from([2]))); // v3
  return seq(version, integer(serial), ECDSA_SHA256, name, validity, name, spki, tlv(0xa3, extensions));
}

function altName(name: string): Buffer {
  const family = isIP(name);
  if (family === 0) return tlv(0x82, Buffer.from(name, 'ascii')); // dNSName
  return tlv(0x87, family === 4 ? Buffer.from(name.split('.').map(Number)) : ipv6Bytes(name)); // iPAddress
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.includes('::') ? address.split('::') : [address, ''];
  const part = (text: string) => (text ? text.split(':') : []);
  const groups = [...part(head), ...Array(8 - part(head).length - part(tail).length).fill('0'), ...part(tail)];
  const bytes = Buffer.alloc(16);
  groups.forEach((group: string, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), tlv(0x01, Buffer.from([0xff])), tlv(0x04, value)) : seq(oid(id), tlv(0x04, value));
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 asks. */
function time(date: Date): Buffer {
  const text = date
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  if (date.getUTCFullYear() < 2050) return tlv(0x17, Buffer.from(text.slice(2), 'ascii'));
  return tlv(0x18, Buffer.from(text, 'ascii'));
}

function pemKey(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

// DER: tag, length, value.
function tlv(tag: number, value: Buffer): Buffer {
  const length = value.length < 0x80 ? Buffer.from([value.length]) : lengthBytes(value.length);
  return Buffer.concat([Buffer.from([tag]), length, value]);
}

function lengthBytes(length: number): Buffer {
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function set(...items: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

function integer(value: Buffer): Buffer {
  return tlv(0x02, value);
}

function bitString(value: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), value]));
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
