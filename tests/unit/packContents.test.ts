import { describe, expect, it } from 'vitest';
import { PackContentsArgs } from '../../electron/contract/pack';
import { EMPTY_PACK_FORM, packContents, packFile, type PackForm } from '../../renderer/src/pages/pack/packContents';

const form = (change: Partial<PackForm>): PackForm => ({ ...EMPTY_PACK_FORM, ...change });

describe('packContents', () => {
  it('turns the form into arguments the contract accepts', () => {
    const args = packContents(
      form({
        cores: ['makerdeckavr:avr'],
        libraries: 'PubSubClient, ArduinoJson\n',
        builds: 'some',
        buildHashes: '0123456789abcdef, fedcba9876543210 ',
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
    const args = packContents(form({ builds: 'all', passphrase: 'typed but unused', again: 'x' }));
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
