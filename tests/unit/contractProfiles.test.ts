import { describe, expect, it } from 'vitest';
import {
  ProfileFields,
  SecretChanges,
  isHostNameOrAddress,
  isLoopbackHost,
  mqttHostProblem,
} from '../../electron/contract';

const valid = {
  name: 'Bench 1',
  board: 'esp32:esp32:esp32',
  wifiSsid: 'makerspace',
  mqttHost: 'broker.lan',
  mqttPort: 1883,
  mqttTls: false,
  mqttUsername: 'device',
  deviceId: 'bench-1',
  telemetryIntervalS: 10,
};

function messageFor(patch: Record<string, unknown>): string | undefined {
  const parsed = ProfileFields.safeParse({ ...valid, ...patch });
  return parsed.success ? undefined : parsed.error.issues[0]!.message;
}

describe('profile validation', () => {
  it('accepts a valid profile, trimming the name', () => {
    expect(ProfileFields.parse({ ...valid, name: '  Bench 1 ' }).name).toBe('Bench 1');
    expect(messageFor({ wifiSsid: '' })).toBeUndefined(); // boards without Wi-Fi
  });

  it.each([
    [{ name: '' }, /must not be empty/],
    [{ name: '   ' }, /must not be empty/],
    [{ name: 'x'.repeat(65) }, /at most 64/],
    [{ name: 'bad\u0007bell' }, /control characters/],
    [{ name: 'half \uD800 surrogate' }, /not valid UTF-8/],
    [{ wifiSsid: '€'.repeat(11) }, /at most 32 bytes/], // 33 bytes in UTF-8
    [{ wifiSsid: 'a'.repeat(33) }, /at most 32 bytes/],
    [{ mqttPort: 0 }, /from 1 to 65535/],
    [{ mqttPort: 65536 }, /from 1 to 65535/],
    [{ mqttPort: 18.5 }, /whole number/],
    [{ mqttPort: '1883' }, /must be a number/],
    [{ mqttHost: 'bad host!' }, /host name .* or an IP address/],
    [{ mqttHost: '-lead.example' }, /host name/],
    [{ mqttHost: '999.1.1.1' }, /host name/],
    [{ mqttHost: ' ' }, /host name/],
    [{ board: 'esp32' }, /fully qualified board name/],
    [{ deviceId: 'a/b' }, /MQTT topic/],
    [{ deviceId: 'room+1' }, /MQTT topic/],
    [{ deviceId: '#' }, /MQTT topic/],
    [{ telemetryIntervalS: 0 }, /1 to 86400/],
    [{ color: 'red' }, /Unrecognized key/],
  ])('rejects %j', (patch, message) => {
    expect(messageFor(patch)).toMatch(message);
  });

  it.each([
    'broker.lan',
    'localhost',
    'mqtt.example.com.',
    '192.168.1.10',
    '127.0.0.1',
    '::1',
    'fe80::1',
    '2001:db8::8a2e:370:7334',
  ])('accepts host %s', (host) => {
    expect(isHostNameOrAddress(host)).toBe(true);
  });

  it.each(['a..b', 'under_score.lan', '256.0.0.1', '1.2.3', '[::1]', 'gg::1', 'a'.repeat(64) + '.lan'])(
    'rejects host %s',
    (host) => {
      expect(isHostNameOrAddress(host)).toBe(false);
    },
  );

  it('checks WPA2 passphrases: 8 to 63 printable ASCII characters', () => {
    const wifi = (value: string) => SecretChanges.safeParse({ wifiPassword: value });
    expect(wifi('12345678').success).toBe(true);
    expect(wifi('x'.repeat(63)).success).toBe(true);
    expect(wifi('1234567').error?.issues[0]?.message).toMatch(/at least 8/);
    expect(wifi('x'.repeat(64)).error?.issues[0]?.message).toMatch(/at most 63/);
    expect(wifi('pässwörter').error?.issues[0]?.message).toMatch(/printable ASCII/);
    expect(SecretChanges.safeParse({ wifiPassword: null }).success).toBe(true); // clear
  });

  it('refuses an empty MQTT password (clearing is explicit)', () => {
    expect(SecretChanges.safeParse({ mqttPassword: '' }).error?.issues[0]?.message).toMatch(/must not be empty/);
  });
});

describe("a profile's MQTT host and its board", () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    'localhost',
    'LOCALHOST',
    'localhost.',
    'box.localhost',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
  ])('%s is loopback', (host) => expect(isLoopbackHost(host)).toBe(true));

  it.each([
    '192.168.1.20',
    '10.0.0.5',
    '128.0.0.1',
    '126.255.255.255',
    'broker.lan',
    'localhost-broker',
    'fe80::1',
    '::',
  ])('%s is not loopback', (host) => expect(isLoopbackHost(host)).toBe(false));

  it("refuses a loopback host on a Wi-Fi board, naming this computer's LAN address when known", () => {
    expect(mqttHostProblem({ board: 'esp32:esp32:esp32', mqttHost: '127.0.0.1' })).toBe(
      "A board connects to itself at 127.0.0.1: use this computer's LAN address, e.g. 192.168.1.20",
    );
    expect(mqttHostProblem({ board: 'esp8266:esp8266:nodemcuv2', mqttHost: 'localhost' }, '10.1.2.3')).toBe(
      "A board connects to itself at localhost: use this computer's LAN address, e.g. 10.1.2.3",
    );
    expect(mqttHostProblem({ board: 'esp32:esp32:esp32', mqttHost: '::1' })).toMatch(/itself at ::1/);
    expect(mqttHostProblem({ board: 'esp32:esp32:esp32', mqttHost: '192.168.1.20' })).toBeUndefined();
  });

  it('needs a host on a Wi-Fi board, none on an AVR board (the serial gateway publishes for it)', () => {
    expect(mqttHostProblem({ board: 'esp32:esp32:esp32', mqttHost: '' })).toMatch(/required for a Wi-Fi board/);
    expect(mqttHostProblem({ board: 'arduino:avr:uno', mqttHost: '' })).toBeUndefined();
    // The gateway runs on this computer, so a loopback host is right there.
    expect(mqttHostProblem({ board: 'arduino:avr:uno', mqttHost: '127.0.0.1' })).toBeUndefined();
    expect(ProfileFields.safeParse({ ...valid, board: 'arduino:avr:uno', wifiSsid: '', mqttHost: '' }).success).toBe(
      true,
    );
  });
});
