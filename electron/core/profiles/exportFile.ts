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
/** Byte lengths Makerdeck writes: a 16-byte salt, GCM's 12-byte IV and its full 16-byte tag. */
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;

// An import accepts exactly the cost Makerdeck writes: a file that chose its own (N=2^20, r=16, p=4
// is 31 s and 2 GiB) would make one import a denial of service. Checked by the schema, before scrypt.
const COST_REFUSED = `Makerdeck reads only scrypt N=${KDF.N}, r=${KDF.r}, p=${KDF.p}: a file cannot choose its own cost`;
const cost = (value: number) => z.literal(value, { error: COST_REFUSED });
/** Base64 of exactly `length` bytes: a shortened IV or GCM tag weakens the cipher, so none is accepted. */
const bytes = (length: number) =>
  z
    .base64()
    .refine((text) => Buffer.from(text, 'base64').length === length, `must be ${length} bytes, as Makerdeck writes it`);

const Sealed = z
  .object({
    kdf: z.literal('scrypt'),
    N: cost(KDF.N),
    r: cost(KDF.r),
    p: cost(KDF.p),
    cipher: z.literal('aes-256-gcm'),
    salt: bytes(SALT_BYTES),
    iv: bytes(IV_BYTES),
    tag: bytes(TAG_BYTES),
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

/** The export file's text: the profile, plus its secrets sealed with the passphrase when one is given. */
export async function encodeExport(
  profile: ProfileFields,
  secrets: PlainSecrets,
  passphrase?: string,
): Promise<string> {
  const header = { format: FORMAT, version: VERSION, profile } as const;
  if (passphrase === undefined) return JSON.stringify(header, null, 2) + '\n';
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const key = await deriveKey(passphrase, salt, KDF);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(profile));
  const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  const sealed = {
    kdf: 'scrypt',
    ...KDF,
    cipher: 'aes-256-gcm',
    salt: b64(salt),
    iv: b64(iv),
    tag: b64(cipher.getAuthTag()),
    data: b64(data),
  };
  return JSON.stringify({ ...header, secrets: sealed }, null, 2) + '\n';
}

export interface DecodedExport {
  profile: ProfileFields;
  secrets: PlainSecrets;
  encrypted: boolean;
}

/** Reads an export file; refuses (BAD_INPUT, one line) anything Makerdeck would not have written. */
export async function decodeExport(content: string, passphrase?: string): Promise<DecodedExport> {
  const file = parseFile(content);
  if (!file.secrets) return { profile: file.profile, secrets: {}, encrypted: false };
  if (!passphrase)
    throw new MakerdeckError(
      'BAD_INPUT',
      'This export holds encrypted secrets: give the passphrase it was exported with',
    );
  const { salt, iv, tag, data } = file.secrets;
  // The schema has already held the file's N, r and p to KDF.
  const key = await deriveKey(passphrase, Buffer.from(salt, 'base64'), KDF);
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(file.profile));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new MakerdeckError(
      'BAD_INPUT',
      'Wrong passphrase, or the file was changed after export: nothing was imported',
    );
  }
  const secrets = SecretChanges.safeParse(JSON.parse(plain));
  if (!secrets.success)
    throw new MakerdeckError('BAD_INPUT', 'The encrypted secrets in this export are not valid: nothing was imported');
  const { wifiPassword, mqttPassword } = secrets.data;
  return {
    profile: file.profile,
    secrets: { wifiPassword: wifiPassword ?? undefined, mqttPassword: mqttPassword ?? undefined },
    encrypted: true,
  };
}

function parseFile(content: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch {
    throw new MakerdeckError('BAD_INPUT', 'This is not a Makerdeck profile export (not JSON)');
  }
  if ((raw as { format?: unknown } | null)?.format !== FORMAT)
    throw new MakerdeckError('BAD_INPUT', 'This is not a Makerdeck profile export (no "format": "makerdeck-profile")');
  const parsed = ExportFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MakerdeckError(
      'BAD_INPUT',
      `This profile export is damaged or from a newer Makerdeck (at "${issue?.path.join('.')}": ${issue?.message}): nothing was imported`,
    );
  }
  return parsed.data;
}

/** Binds the ciphertext to the profile fields, key order fixed. */
function additionalData(profile: ProfileFields): Buffer {
  const fields = Object.keys(profile)
    .sort()
    .map((key) => [key, profile[key as keyof ProfileFields]]);
  return Buffer.from(JSON.stringify([FORMAT, VERSION, fields]), 'utf8');
}

function deriveKey(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

const b64 = (buffer: Buffer) => buffer.toString('base64');
