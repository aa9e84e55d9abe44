// The classroom export file: a profile's non-secret fields, and — only if asked — its secrets
// encrypted with a passphrase (scrypt, then AES-256-GCM). The profile fields are authenticated
// too, so a changed file fails to import instead of importing something else.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { z } from 'zod';
import { MakerdeckError, ProfileFields, SecretChanges } from '../../contract';

const FORMAT = 'makerdeck-profile';
const VERSION = 1;
/** scrypt cost: about 0.1 s and 32 MiB here; strong enough for a file on a USB stick. */
const KDF = { N: 2 ** 15, r: 8, p: 1 } as const;

const Sealed = z
  .object({
    kdf: z.literal('scrypt'),
    N: z.number().int().min(2 ** 14).max(2 ** 20),
    r: z.number().int().min(1).max(16),
    p: z.number().int().min(1).max(4),
    cipher: z.literal('aes-256-gcm'),
    salt: z.base64(),
    iv: z.base64(),
    tag: z.base64(),
    data: z.base64(),
  })
  .strict();

const ExportFile = z
  .object({
    format: z.literal(FORMAT),
    version: z.literal(VERSION),
    profile: ProfileFields,
    secrets: Sealed.optional(),
  })
  .strict();

export type PlainSecrets = { wifiPassword?: string; mqttPassword?: string };

export async function encodeExport(profile: ProfileFields, secrets: PlainSecrets, passphrase?: string): Promise<string> {
  const header = { format: FORMAT, version: VERSION, profile } as const;
  if (passphrase === undefined) return JSON.stringify(header, null, 2) + '\n';
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await deriveKey(passphrase, salt, KDF);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additionalData(profile));
  const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  const sealed = { kdf: 'scrypt', ...KDF, cipher: 'aes-256-gcm', salt: b64(salt), iv: b64(iv), tag: b64(cipher.getAuthTag()), data: b64(data) };
  return JSON.stringify({ ...header, secrets: sealed }, null, 2) + '\n';
}

export interface DecodedExport {
  profile: ProfileFields;
  secrets: PlainSecrets;
  encrypted: boolean;
}

export async function decodeExport(content: string, passphrase?: string): Promise<DecodedExport> {
  const file = parseFile(content);
  if (!file.secrets) return { profile: file.profile, secrets: {}, encrypted: false };
  if (!passphrase) throw new MakerdeckError('BAD_INPUT', 'This export holds encrypted secrets: give the passphrase it was exported with');
  const { salt, iv, tag, data, N, r, p } = file.secrets;
  const key = await deriveKey(passphrase, Buffer.from(salt, 'base64'), { N, r, p });
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(additionalData(file.profile));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new MakerdeckError('BAD_INPUT', 'Wrong passphrase, or the file was changed after export: nothing was imported');
  }
  const secrets = SecretChanges.safeParse(JSON.parse(plain));
  if (!secrets.success) throw new MakerdeckError('BAD_INPUT', 'The encrypted secrets in this export are not valid: nothing was imported');
  const { wifiPassword, mqttPassword } = secrets.data;
  return { profile: file.profile, secrets: { wifiPassword: wifiPassword ?? undefined, mqttPassword: mqttPassword ?? undefined }, encrypted: true };
}

function parseFile(content: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch {
    throw new MakerdeckError('BAD_INPUT', 'This is not a Makerdeck profile export (not JSON)');
  }
  if ((raw as { format?: unknown } | null)?.format !== FORMAT) throw new MakerdeckError('BAD_INPUT', 'This is not a Makerdeck profile export (no "format": "makerdeck-profile")');
  const parsed = ExportFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MakerdeckError('BAD_INPUT', `This profile export is damaged or from a newer Makerdeck (at "${issue?.path.join('.')}": ${issue?.message}): nothing was imported`);
  }
  return parsed.data;
}

/** Binds the ciphertext to the profile fields, key order fixed. */
function additionalData(profile: ProfileFields): Buffer {
  const fields = Object.keys(profile).sort().map((key) => [key, profile[key as keyof ProfileFields]]);
  return Buffer.from(JSON.stringify([FORMAT, VERSION, fields]), 'utf8');
}

function deriveKey(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (buffer: Buffer) => buffer.toString('base64');
