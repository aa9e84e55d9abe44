import { describe, expect, it } from 'vitest';
import type { ProfileFields } from '../../electron/contract';
import { decodeExport, encodeExport } from '../../electron/core/profiles/exportFile';

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
    await expect(decodeExport(content, 'wrong horse battery')).rejects.toThrow('Wrong passphrase, or the file was changed after export: nothing was imported');
    await expect(decodeExport(content)).rejects.toThrow(/give the passphrase/);
  });

  it('detects a changed profile field (authenticated with the secrets)', async () => {
    const file = JSON.parse(await encodeExport(profile, secrets, 'correct horse battery'));
    file.profile.mqttHost = 'evil.example';
    await expect(decodeExport(JSON.stringify(file), 'correct horse battery')).rejects.toThrow(/was changed after export/);
  });

  it('detects changed ciphertext', async () => {
    const file = JSON.parse(await encodeExport(profile, secrets, 'correct horse battery'));
    const data = Buffer.from(file.secrets.data, 'base64');
    data[0] = data[0]! ^ 1;
    file.secrets.data = data.toString('base64');
    await expect(decodeExport(JSON.stringify(file), 'correct horse battery')).rejects.toThrow(/was changed after export/);
  });

  it('explains files that are not exports or are damaged', async () => {
    await expect(decodeExport('garbage')).rejects.toThrow(/not a Makerdeck profile export \(not JSON\)/);
    await expect(decodeExport('{"hello":1}')).rejects.toThrow(/no "format"/);
    const file = JSON.parse(await encodeExport(profile, secrets));
    file.profile.mqttPort = 0;
    await expect(decodeExport(JSON.stringify(file))).rejects.toThrow(/damaged or from a newer Makerdeck \(at "profile.mqttPort"/);
  });
});
