import { describe, expect, it } from 'vitest';
import { manifestMembers, parseManifest, unsafeMemberPath } from '../../electron/core/pack/packManifest';

const file = (p: string, bytes = 3) => ({ path: p, bytes, sha256: 'a'.repeat(64) });
const manifest = (parts: unknown[]) => ({
  format: 'makerdeck-pack',
  formatVersion: 1,
  id: 'c0ffee00-1234',
  createdAt: '2026-12-05T20:00:00.000Z',
  createdBy: { makerdeck: '0.1.0', platform: 'linux', arch: 'x64' },
  parts,
});

describe('unsafeMemberPath', () => {
  it('accepts relative forward-slash paths', () => {
    for (const p of ['boards/package_x_index.json', 'arduino-cli/linux-x64/arduino-cli.gz', 'a b/c+d@1.0'])
      expect(unsafeMemberPath(p), p).toBeUndefined();
  });
  it('refuses absolute, climbing, empty-segment, backslash, control-character and manifest paths', () => {
    const cases: Array<[string, RegExp]> = [
      ['/etc/passwd', /absolute/],
      ['C:/x', /absolute/],
      ['../x', /segment/],
      ['a/../../x', /segment/],
      ['a//b', /segment/],
      ['./a', /segment/],
      ['a/', /segment/],
      ['a\\..\\b', /backslash/],
      ['a\u0000b', /control/],
      ['', /empty/],
      ['manifest.json', /manifest/],
    ];
    for (const [p, why] of cases) expect(unsafeMemberPath(p), JSON.stringify(p)).toMatch(why);
  });
});

describe('parseManifest', () => {
  it('accepts a well-formed manifest and lists its members', () => {
    const parsed = parseManifest(
      manifest([
        {
          id: 'core/a:b',
          kind: 'core',
          title: 'A',
          version: '1.0.0',
          bytes: 7,
          files: [file('x/1', 3), file('x/2', 4)],
        },
      ]),
    );
    expect([...manifestMembers(parsed).keys()]).toEqual(['x/1', 'x/2']);
    expect(manifestMembers(parsed).get('x/2')).toMatchObject({ part: 'core/a:b', bytes: 4 });
  });
  it('refuses duplicates, wrong sums, unknown fields, bad checksums and bad paths, in one line', () => {
    const part = (files: unknown[], extra = {}) => ({
      id: 'p',
      kind: 'build',
      title: 't',
      bytes: 3 * files.length,
      files,
      ...extra,
    });
    const cases: Array<[unknown, RegExp]> = [
      [manifest([part([file('a')]), part([file('b')])]), /part p is listed twice/],
      [manifest([part([file('a'), file('a')])]), /member a is listed twice/],
      [manifest([{ ...part([file('a')]), bytes: 4 }]), /not the sum of its files/],
      [manifest([part([file('a')], { extra: 1 })]), /parts\.0/],
      [manifest([part([{ ...file('a'), sha256: 'XYZ' }])]), /sha256 is 64 lowercase hex/],
      [manifest([part([file('../a')])]), /"\.\.\/a" has an empty/],
      [{ ...manifest([]), formatVersion: 2 }, /formatVersion/],
      ['nope', /bad manifest/],
    ];
    for (const [input, why] of cases) {
      expect(() => parseManifest(input), String(why)).toThrow(why);
      expect(() => parseManifest(input)).toThrow(/^the pack has a bad manifest .*\n?.*make the pack again/);
    }
  });
});
