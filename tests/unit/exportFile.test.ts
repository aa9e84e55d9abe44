import * as crypto from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProfileImportArgs, PROFILE_FILE_MAX_BYTES, type ProfileFields } from '../../electron/contract';
import { decodeExport, encodeExport } from '../../electron/core/profiles/exportFile';

// The real scrypt, wrapped in a spy so a test can tell whether a key was derived at all.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, scrypt: vi.fn(actual.scrypt) };
});

const profile: ProfileFields = {
  name: 'Lab bench',
  board: 'esp8266:esp8266:nodemcuv2',
  wifiSsid: 'lab',
  mqttHost: '10.0.0.5',
  mqttPort: 8883,
  mqttTls: true,
  mqttUsername: 'lab-device',
  deviceId: 'lab-1',
  telemetryIntervalS: 5,
};
const secrets = { wifiPassword: 'wifi-secret-123', mqttPassword: 'mqtt-secret-456' };

describe('profile export files', () => {
  it('holds no secret when exported without a passphrase', async () => {
    const content = await encodeExport(profile, secrets);
    expect(content).not.toContain('secret');
    expect(await decodeExport(content)).toEqual({ profile, secrets: {}, encrypted: false });
  });

  it('round-trips secrets encrypted with a passphrase, and the file does not contain them', async () => {
    const content = await encodeExport(profile, secrets, 'correct horse battery');
    for (const value of Object.values(secrets)) {
      expect(content).not.toContain(value);
      expect(content).not.toContain(Buffer.from(value).toString('base64'));
    }
    expect(await decodeExport(content, 'correct horse battery')).toEqual({ profile, secrets, encrypted: true });
  });

  it('refuses a wrong passphrase, or none, with one clear line', async () => {
    const content = await encodeExport(profile, secrets, 'correct horse battery');
    await expect(decodeExport(content, 'wrong horse battery')).rejects.toThrow(
      'Wrong passphrase, or the file was changed after export: nothing was imported',
    );
    await expect(decodeExport(content)).rejects.toThrow(/give the passphrase/);
  });

  it('detects a changed profile field (authenticated with the secrets)', async () => {
    const file = JSON.parse(await encodeExport(profile, secrets, 'correct horse battery'));
    file.profile.mqttHost = 'evil.example';
    await expect(decodeExport(JSON.stringify(file), 'correct horse battery')).rejects.toThrow(
      /was changed after export/,
    );
  });

  it('detects changed ciphertext', async () => {
    const file = JSON.parse(await encodeExport(profile, secrets, 'correct horse battery'));
    const data = Buffer.from(file.secrets.data, 'base64');
    data[0] = data[0]! ^ 1;
    file.secrets.data = data.toString('base64');
    await expect(decodeExport(JSON.stringify(file), 'correct horse battery')).rejects.toThrow(
      /was changed after export/,
    );
  });

  it('explains files that are not exports or are damaged', async () => {
    await expect(decodeExport('garbage')).rejects.toThrow(/not a Makerdeck profile export \(not JSON\)/);
    await expect(decodeExport('{"hello":1}')).rejects.toThrow(/no "format"/);
    const file = JSON.parse(await encodeExport(profile, secrets));
    file.profile.mqttPort = 0;
    await expect(decodeExport(JSON.stringify(file))).rejects.toThrow(
      /damaged or from a newer Makerdeck \(at "profile.mqttPort"/,
    );
  });
});

describe('profile import limits', () => {
  let exported: string;
  beforeAll(async () => {
    exported = await encodeExport(profile, secrets, 'correct horse battery');
  });
  // (braces: a function returned by beforeEach would be run as its teardown)
  beforeEach(() => {
    vi.mocked(crypto.scrypt).mockClear();
  });
  const sealed = () => JSON.parse(exported);
  const damaged = (field: string) =>
    new RegExp(`damaged or from a newer Makerdeck \\(at "secrets\\.${field}": .*\\): nothing was imported`);

  it('writes the one scrypt cost it reads, and derives a key for it', async () => {
    const file = sealed();
    expect({ N: file.secrets.N, r: file.secrets.r, p: file.secrets.p }).toEqual({ N: 32768, r: 8, p: 1 });
    expect(await decodeExport(JSON.stringify(file), 'correct horse battery')).toMatchObject({
      secrets,
      encrypted: true,
    });
    expect(crypto.scrypt).toHaveBeenCalledTimes(1);
  });

  it('refuses a file that picks its own scrypt cost, before deriving anything', async () => {
    const costs = [{ N: 2 ** 20, r: 16, p: 4 }, { N: 2 ** 16 }, { N: 2 ** 14 }, { r: 9 }, { p: 2 }];
    for (const cost of costs) {
      const file = sealed();
      Object.assign(file.secrets, cost);
      const refused = decodeExport(JSON.stringify(file), 'correct horse battery');
      await expect(refused, JSON.stringify(cost)).rejects.toThrow(
        'Makerdeck reads only scrypt N=32768, r=8, p=1: a file cannot choose its own cost',
      );
      expect(crypto.scrypt, JSON.stringify(cost)).not.toHaveBeenCalled();
    }
  });

  it('refuses a shortened GCM tag, a short IV or salt, before deriving anything', async () => {
    const cuts = { tag: [4, 12, 15, 17], iv: [1, 8, 16], salt: [8, 15] } as const;
    for (const [field, lengths] of Object.entries(cuts)) {
      for (const length of lengths) {
        const file = sealed();
        const full = Buffer.from(file.secrets[field], 'base64');
        file.secrets[field] = Buffer.concat([full, full]).subarray(0, length).toString('base64');
        await expect(decodeExport(JSON.stringify(file), 'correct horse battery'), `${field} ${length}`).rejects.toThrow(
          damaged(field),
        );
        expect(crypto.scrypt, `${field} ${length}`).not.toHaveBeenCalled();
      }
    }
  });

  it('names the byte length it wanted for the tag', async () => {
    const file = sealed();
    file.secrets.tag = Buffer.from(file.secrets.tag, 'base64').subarray(0, 4).toString('base64');
    await expect(decodeExport(JSON.stringify(file), 'correct horse battery')).rejects.toThrow(
      '(at "secrets.tag": must be 16 bytes, as Makerdeck writes it)',
    );
  });

  it('caps the import request content at the file cap, 256 KiB', () => {
    expect(PROFILE_FILE_MAX_BYTES).toBe(256 * 1024);
    expect(ProfileImportArgs.safeParse({ content: 'x'.repeat(PROFILE_FILE_MAX_BYTES) }).success).toBe(true);
    const over = ProfileImportArgs.safeParse({ content: 'x'.repeat(PROFILE_FILE_MAX_BYTES + 1) });
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]?.message).toBe(
      'This content is too large: a Makerdeck profile file is at most 256 KiB: is this the right file?',
    );
  });
});
