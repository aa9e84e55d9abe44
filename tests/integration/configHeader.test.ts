// config.h through a real C compiler (gcc, which `npm test` installs): the values a sketch sees are
// byte for byte the profile's. Not a unit test: a fresh machine has no compiler (freshMachine.test.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHeader } from '../../electron/core/firmware/configHeader';

describe('config.h generation', () => {
  it('compiles with a real C compiler and the values come back byte for byte', () => {
    const wifi = 'p"a\\ss??/wörd\t1';
    const header = configHeader({
      profile: {
        name: 'n',
        board: 'arduino:avr:uno',
        wifiSsid: 'ssid "x"',
        mqttHost: 'broker.lan',
        mqttPort: 1884,
        mqttTls: true,
        mqttUsername: 'u',
        deviceId: 'dev-1',
        telemetryIntervalS: 5,
      },
      wifiPassword: wifi,
      mqttPassword: 'm',
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-cfg-'));
    try {
      writeFileSync(path.join(dir, 'config.h'), header);
      writeFileSync(
        path.join(dir, 'main.c'),
        '#include <stdio.h>\n#include "config.h"\nint main(void){printf("%s|%s|%d|%d|%lu|%s", MAKERDECK_WIFI_PASSWORD, MAKERDECK_WIFI_SSID, MAKERDECK_MQTT_PORT, MAKERDECK_MQTT_TLS, MAKERDECK_TELEMETRY_INTERVAL_MS, MAKERDECK_DEVICE_ID);return 0;}\n',
      );
      execFileSync('cc', [
        '-std=c99',
        '-Wall',
        '-Werror',
        '-trigraphs',
        '-o',
        path.join(dir, 'main'),
        path.join(dir, 'main.c'),
      ]);
      expect(execFileSync(path.join(dir, 'main'), { encoding: 'utf8' })).toBe(`${wifi}|ssid "x"|1884|1|5000|dev-1`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
