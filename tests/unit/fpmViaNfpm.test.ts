import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nfpmConfigFromFpm } from '../../scripts/fpmViaNfpm.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-fpm-'));
  mkdirSync(path.join(dir, 'linux-unpacked'));
  writeFileSync(path.join(dir, 'makerdeck.desktop'), '[Desktop Entry]\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fpm command line electron-builder 26's deb target passes (FpmTarget.executeFpm), with these files. */
const fpmArgs = () => [
  ...[
    '-s',
    'dir',
    '--force',
    '-t',
    'deb',
    '-d',
    'libgtk-3-0',
    '-d',
    'libnss3',
    '--deb-recommends',
    'libappindicator3-1',
  ],
  ...['--deb-compression', 'xz', '--architecture', 'amd64', '--after-install', '/tmp/after-install.tpl'],
  ...['--after-remove', '/tmp/after-remove.tpl', '--description', 'Desktop companion app\n Long text.'],
  ...['--version', '0.1.0', '--package', '/out/makerdeck_0.1.0_amd64.deb', '--name', 'makerdeck'],
  ...['--maintainer', 'Makerdeck developers', '--vendor', 'Makerdeck developers'],
  ...['--url', 'https://github.com/makerdeck/makerdeck', '--category', 'devel', '--deb-priority', 'optional'],
  ...['--license', 'MIT', `${dir}/linux-unpacked/=/opt/Makerdeck`],
  `${dir}/makerdeck.desktop=/usr/share/applications/makerdeck.desktop`,
];

describe('nfpmConfigFromFpm', () => {
  it("turns electron-builder's fpm call into the same package for nfpm", () => {
    const { config, output } = nfpmConfigFromFpm(fpmArgs());
    expect(output).toBe('/out/makerdeck_0.1.0_amd64.deb');
    expect(config).toEqual({
      platform: 'linux',
      version_schema: 'none',
      name: 'makerdeck',
      version: '0.1.0',
      arch: 'amd64',
      maintainer: 'Makerdeck developers',
      vendor: 'Makerdeck developers',
      homepage: 'https://github.com/makerdeck/makerdeck',
      license: 'MIT',
      description: 'Desktop companion app\n Long text.',
      section: 'devel',
      priority: 'optional',
      depends: ['libgtk-3-0', 'libnss3'],
      recommends: ['libappindicator3-1'],
      deb: { compression: 'xz' },
      scripts: { postinstall: '/tmp/after-install.tpl', postremove: '/tmp/after-remove.tpl' },
      contents: [
        { src: `${dir}/linux-unpacked/`, dst: '/opt/Makerdeck', type: 'tree' },
        { src: `${dir}/makerdeck.desktop`, dst: '/usr/share/applications/makerdeck.desktop' },
      ],
    });
  });

  it('drops an empty value instead of writing an empty control field', () => {
    const args = fpmArgs();
    args[args.indexOf('--category') + 1] = '';
    expect(nfpmConfigFromFpm(args).config.section).toBeUndefined();
  });

  it('refuses what it does not carry out, in one line, rather than dropping it', () => {
    expect(() => nfpmConfigFromFpm([...fpmArgs(), '--rpm-os', 'linux'])).toThrow(
      'fpm option --rpm-os is not supported by scripts/fpmViaNfpm.js: add it there',
    );
    const rpm = fpmArgs();
    rpm[rpm.indexOf('-t') + 1] = 'rpm';
    expect(() => nfpmConfigFromFpm(rpm)).toThrow('fpm -t rpm is not supported (only deb)');
    expect(() => nfpmConfigFromFpm(['-s', 'dir', '-t', 'deb', '--name', 'x'])).toThrow(/did not pass --package/);
    expect(() => nfpmConfigFromFpm(['--version'])).toThrow('fpm option --version has no value');
  });
});
