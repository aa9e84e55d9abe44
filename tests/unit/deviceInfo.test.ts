import { describe, expect, it } from 'vitest';
import { infoFromImprov, infoFromLine } from '../../electron/core/device/deviceInfo';

describe('deviceInfo', () => {
  it("keeps the firmware info line's known fields, each of its type", () => {
    const info = infoFromLine('/dev/ttyUSB0', {
      deviceId: 'bench-1',
      build: '0123456789abcdef',
      chip: 'ESP32',
      provisioned: true,
      wifiSsid: 'lab',
      mqttHost: 'broker.lan',
      mqttPort: 1883,
      mqttUser: 'makerdeck-dev-bench-1',
      intervalS: 5,
      overridden: { deviceId: true, wifi: false },
    });
    expect(info).toEqual({
      port: '/dev/ttyUSB0',
      source: 'makerdeck',
      firmware: 'Makerdeck',
      build: '0123456789abcdef',
      chip: 'ESP32',
      deviceId: 'bench-1',
      provisioned: true,
      wifiSsid: 'lab',
      mqttHost: 'broker.lan',
      mqttPort: 1883,
      mqttUser: 'makerdeck-dev-bench-1',
      intervalS: 5,
      overridden: { deviceId: true, wifi: false },
    });
  });

  it('drops what a hostile or other board adds: unknown keys (a password), wrong types, huge strings', () => {
    const info = infoFromLine('p', {
      deviceId: 'x'.repeat(10_000),
      wifiPassword: 'leaked-secret',
      mqttPort: -1,
      intervalS: 1.5,
      provisioned: 'yes',
      chip: 42,
      overridden: 'all',
    });
    expect(JSON.stringify(info)).not.toContain('leaked-secret');
    expect(info.deviceId).toHaveLength(256);
    expect(info).toMatchObject({ chip: 'unknown', provisioned: false, overridden: { deviceId: false, wifi: false } });
    expect(info).not.toHaveProperty('mqttPort');
    expect(info).not.toHaveProperty('intervalS');
  });

  it('reads Improv device info from other firmware', () => {
    expect(
      infoFromImprov('p', { firmware: 'ESPHome', version: '2025.1.0', chipFamily: 'ESP32', name: 'Kitchen' }),
    ).toEqual({
      port: 'p',
      source: 'improv',
      firmware: 'ESPHome',
      build: '2025.1.0',
      chip: 'ESP32',
      deviceId: 'Kitchen',
    });
  });
});
