import { describe, expect, it } from 'vitest';
import { missingCore, parseDiagnostics } from '../../electron/core/firmware/diagnostics';

describe('compiler diagnostics', () => {
  it('parses gcc errors, warnings and notes and maps the build copy back to the sketch', () => {
    const output = [
      "/tmp/makerdeck-0/sketch-bench/firmware/firmware.ino: In function 'void loop()':",
      "/tmp/makerdeck-0/sketch-bench/firmware/firmware.ino:31:3: error: 'foo' was not declared in this scope",
      '   foo();',
      "/tmp/makerdeck-0/sketch-bench/firmware/telemetry.cpp:12:10: warning: unused variable 'x' [-Wunused-variable]",
      "/tmp/makerdeck-0/sketch-bench/firmware/telemetry.cpp:12:10: warning: unused variable 'x' [-Wunused-variable]",
      'In file included from x.cpp:1:0:',
      '/usr/share/arduino/hardware/arduino/avr/cores/arduino/Arduino.h:5: note: in expansion',
      'compilation terminated.',
      '/tmp/makerdeck-0/sketch-bench/firmware/firmware.ino:9:10: fatal error: missing.h: No such file or directory',
    ].join('\n');
    const map = (file: string) => file.replace('/tmp/makerdeck-0/sketch-bench/firmware', 'firmware');
    expect(parseDiagnostics(output, map)).toEqual([
      {
        file: 'firmware/firmware.ino',
        line: 31,
        column: 3,
        severity: 'error',
        message: "'foo' was not declared in this scope",
      },
      {
        file: 'firmware/telemetry.cpp',
        line: 12,
        column: 10,
        severity: 'warning',
        message: "unused variable 'x' [-Wunused-variable]",
      },
      {
        file: '/usr/share/arduino/hardware/arduino/avr/cores/arduino/Arduino.h',
        line: 5,
        column: undefined,
        severity: 'note',
        message: 'in expansion',
      },
      {
        file: 'firmware/firmware.ino',
        line: 9,
        column: 10,
        severity: 'error',
        message: 'missing.h: No such file or directory',
      },
    ]);
  });
});

describe('missingCore', () => {
  it("names the core of arduino-cli's missing-platform error and the command that installs it", () => {
    const error =
      "Error during build: Platform 'esp32:esp32' not found: platform not installed\nPlatform esp32:esp32 is not found in any known index";
    expect(missingCore(error)).toEqual({ core: 'esp32:esp32', command: 'makerdeck boards install esp32:esp32' });
    expect(missingCore("Platform 'makerdeckavr:avr@1.8.7' not found")?.core).toBe('makerdeckavr:avr');
  });

  it('finds nothing in other failures', () => {
    expect(missingCore('Error during build: exit status 1')).toBeUndefined();
    expect(missingCore(undefined)).toBeUndefined();
    expect(missingCore("Platform 'a b:c' not found")).toBeUndefined();
  });
});
