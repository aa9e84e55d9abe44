import { describe, expect, it } from 'vitest';
import { failureLine } from '../../electron/core/boards/arduinoCliRunner';

describe('failureLine', () => {
  it("picks arduino-cli's reason out of the offline noise every command repeats", () => {
    const stderr = [
      'Downloading index: library_index.tar.bz2 Get "https://downloads.arduino.cc/libraries/library_index.tar.bz2": dial tcp: lookup downloads.arduino.cc: no such host',
      'Error initializing instance: Error loading hardware platform: discovery builtin:serial-discovery not found',
      'Error during install: Cannot install tool makerdeckavr:avr-gcc@5.4.0: testing local archive integrity: testing archive checksum: archive hash differs from hash in index',
    ].join('\n');
    expect(failureLine({ code: 1, stdout: 'Downloading packages...\n', stderr })).toBe(
      'Cannot install tool makerdeckavr:avr-gcc@5.4.0: testing local archive integrity: testing archive checksum: archive hash differs from hash in index',
    );
  });

  it('falls back to the first line, or the exit code when there is nothing', () => {
    expect(failureLine({ code: 1, stdout: '', stderr: "Invalid argument passed: Platform 'x:y' not found\n" })).toBe(
      "Invalid argument passed: Platform 'x:y' not found",
    );
    expect(failureLine({ code: 7, stdout: '', stderr: 'Error initializing instance: noise\n' })).toBe('exit code 7');
  });
});
