import { describe, expect, it } from 'vitest';
import { PackContentsArgs } from '../../electron/contract/pack';
import { cachedBuildDetails } from '../../renderer/src/pages/pack/cachedBuildDetails';
import { EMPTY_PACK_FORM, packContents, packFile, type PackForm } from '../../renderer/src/pages/pack/packContents';

const form = (change: Partial<PackForm>): PackForm => ({ ...EMPTY_PACK_FORM, ...change });

describe('packContents', () => {
  it('turns the form into arguments the contract accepts', () => {
    const args = packContents(
      form({
        cores: ['makerdeckavr:avr'],
        libraries: 'PubSubClient, ArduinoJson\n',
        builds: ['0123456789abcdef', 'fedcba9876543210'],
        stack: 'core',
        profiles: ['p1'],
        passphrase: 'correct horse',
        again: 'correct horse',
        cliTargets: ['linux-x64'],
      }),
    );
    expect(args).toEqual({
      cores: ['makerdeckavr:avr'],
      libraries: ['PubSubClient', 'ArduinoJson'],
      builds: ['0123456789abcdef', 'fedcba9876543210'],
      stack: 'core',
      profiles: ['p1'],
      passphrase: 'correct horse',
      cliTargets: ['linux-x64'],
    });
    expect(PackContentsArgs.safeParse(args).success).toBe(true);
  });

  it('sends "all" builds, no stack and no passphrase without profiles', () => {
    const ticked = ['0123456789abcdef'];
    const args = packContents(form({ allBuilds: true, builds: ticked, passphrase: 'typed but unused', again: 'x' }));
    expect(args).toMatchObject({ builds: 'all', stack: undefined, passphrase: undefined, profiles: [] });
  });

  it('refuses profiles without a passphrase, and passphrases that differ', () => {
    expect(() => packContents(form({ profiles: ['p1'] }))).toThrow(/type a passphrase \(twice\)/);
    expect(() => packContents(form({ profiles: ['p1'], passphrase: 'abcdefgh', again: 'abcdefgx' }))).toThrow(
      'The two passphrases differ: nothing was written; type the same one twice',
    );
  });
});

describe('packFile', () => {
  it('trims the path and refuses an empty one in one line', () => {
    expect(packFile('  /media/usb/room3.mdpack ')).toBe('/media/usb/room3.mdpack');
    expect(() => packFile('   ')).toThrow(/^Name the pack file: a path on the machine running Makerdeck/);
  });
});

describe('cachedBuildDetails', () => {
  const build = {
    buildHash: '3f9a1c0b2d4e5f60',
    key: '3f9a1c0b2d4e5f60'.padEnd(64, '0'),
    fqbn: 'makerdeckavr:avr:uno',
    format: 'hex' as const,
    bytes: 12_600,
    builtAt: '2026-12-05T21:40:00.000Z',
  };
  const utc = { locale: 'en-GB', timeZone: 'UTC' };

  it('says the hash, size, versions and when it was built', () => {
    expect(cachedBuildDetails({ ...build, coreVersion: '1.8.7', cliVersion: '1.0.4' }, utc)).toBe(
      '3f9a1c0b2d4e5f60 · 12.3 KiB .hex · core 1.8.7 · arduino-cli 1.0.4 · built 5 Dec 2026, 21:40',
    );
  });

  it('leaves out the versions a record does not have', () => {
    expect(cachedBuildDetails({ ...build, format: 'bin', bytes: 900 }, utc)).toBe(
      '3f9a1c0b2d4e5f60 · 900 B .bin · built 5 Dec 2026, 21:40',
    );
  });
});
