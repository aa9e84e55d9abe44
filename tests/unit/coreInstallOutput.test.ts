import { describe, expect, it } from 'vitest';
import { CoreInstallOutput, parseCoreInstallLine } from '../../electron/core/boards/coreInstallOutput';

// What arduino-cli 1.0.4 printed for `core install` in these cases (captured from the test rig).
const ONLINE =
  'Downloading packages...\n\rmakerdeckavr:avr-gcc@5.4.0 0 B / 36.13 MiB    0.00%' +
  '\rmakerdeckavr:avr-gcc@5.4.0 4.00 MiB / 36.13 MiB   11.07% 00m01s' +
  '\rmakerdeckavr:avr-gcc@5.4.0 downloaded\n' +
  '\rmakerdeckavr:avr@1.8.7 0 B / 291.82 KiB    0.00%\rmakerdeckavr:avr@1.8.7 downloaded\n' +
  'Installing makerdeckavr:avr-gcc@5.4.0...\nSkipping tool configuration....\n' +
  'makerdeckavr:avr-gcc@5.4.0 installed\nInstalling platform makerdeckavr:avr@1.8.7...\n' +
  'Skipping platform configuration....\nPlatform makerdeckavr:avr@1.8.7 installed\n';

describe('CoreInstallOutput', () => {
  it('turns the redrawn progress bar and the step lines into events', () => {
    const output = new CoreInstallOutput();
    const events = [...output.push(ONLINE), ...output.end()];
    expect(events).toEqual([
      { kind: 'download', item: 'makerdeckavr:avr-gcc@5.4.0', bytesDone: 0, bytesTotal: 37885051 },
      { kind: 'download', item: 'makerdeckavr:avr-gcc@5.4.0', bytesDone: 4194304, bytesTotal: 37885051 },
      { kind: 'downloaded', item: 'makerdeckavr:avr-gcc@5.4.0', cached: false },
      { kind: 'download', item: 'makerdeckavr:avr@1.8.7', bytesDone: 0, bytesTotal: 298824 },
      { kind: 'downloaded', item: 'makerdeckavr:avr@1.8.7', cached: false },
      { kind: 'installing', item: 'makerdeckavr:avr-gcc@5.4.0' },
      { kind: 'installed', item: 'makerdeckavr:avr-gcc@5.4.0' },
      { kind: 'installing', item: 'makerdeckavr:avr@1.8.7' },
      { kind: 'installed', item: 'makerdeckavr:avr@1.8.7' },
    ]);
    expect(output.downloadedBytes).toBe(37885051 + 298824);
  });

  it('gives the same events whatever the chunks the pipe cuts the output into', () => {
    const whole = new CoreInstallOutput().push(ONLINE);
    const split = new CoreInstallOutput();
    const pieces: unknown[] = [];
    for (let i = 0; i < ONLINE.length; i += 7) pieces.push(...split.push(ONLINE.slice(i, i + 7)));
    pieces.push(...split.end());
    expect(pieces).toEqual(whole);
  });

  it('counts archives already in the downloads folder as cached, not downloaded', () => {
    const output = new CoreInstallOutput();
    const events = output.push(
      'makerdeckavr:ctags@5.8.0-arduino11 makerdeckavr:ctags@5.8.0-arduino11 already downloaded\n',
    );
    expect(events).toEqual([{ kind: 'downloaded', item: 'makerdeckavr:ctags@5.8.0-arduino11', cached: true }]);
    expect(output.downloadedBytes).toBe(0);
  });

  it('reads which indexes update-index fetched and which it could not', () => {
    expect(parseCoreInstallLine('Downloading index: package_makerdeckavr_index.json downloaded')).toEqual({
      kind: 'index',
      index: 'package_makerdeckavr_index.json',
      ok: true,
    });
    expect(
      parseCoreInstallLine('Downloading index: package_index.tar.bz2 Get "https://x/": dial tcp: no such host'),
    ).toEqual({
      kind: 'index',
      index: 'package_index.tar.bz2',
      ok: false,
      error: 'Get "https://x/": dial tcp: no such host',
    });
    expect(parseCoreInstallLine('Downloading index: package_x_index.json 0 B / 3.07 KiB    0.00%')).toBeUndefined();
  });

  it('ignores noise and drops an endless line instead of growing without bound', () => {
    const output = new CoreInstallOutput();
    expect(output.push('Error initializing instance: discovery builtin:serial-discovery not found\n')).toEqual([]);
    expect(output.push('x'.repeat(70 * 1024))).toEqual([]);
    expect(output.push('\nmakerdeckavr:avr@1.8.7 installed\n')).toEqual([
      { kind: 'installed', item: 'makerdeckavr:avr@1.8.7' },
    ]);
  });
});
