#!/usr/bin/env node
// fpm's command line, as electron-builder's deb target calls it (CUSTOM_FPM_PATH), carried out by nfpm
// (MAKERDECK_NFPM: its path; scripts/packageLinux.js builds it). So the deb holds exactly what
// electron-builder puts in it (the app under /opt, desktop entry, icons, its install scripts and
// dependencies) without downloading fpm, which this network cannot reach. Anything electron-builder
// passes that this does not know is refused in one line, never dropped.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { isMain } from './services/proc.js';

const YAML = createRequire(import.meta.url)('yaml');

/** fpm options with a value, and the nfpm config key each sets. */
const VALUE_OPTIONS = {
  '--architecture': 'arch',
  '--version': 'version',
  '--iteration': 'release',
  '--name': 'name',
  '--maintainer': 'maintainer',
  '--vendor': 'vendor',
  '--url': 'homepage',
  '--license': 'license',
  '--description': 'description',
  '--category': 'section',
  '--deb-priority': 'priority',
};

/**
 * Turn fpm's arguments into an nfpm config plus the output path.
 * @param {string[]} argv
 */
export function nfpmConfigFromFpm(argv) {
  /** @type {Record<string, any>} */
  const config = { platform: 'linux', version_schema: 'none', depends: [], recommends: [], contents: [], scripts: {} };
  let output = '';
  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i]);
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`fpm option ${arg} has no value`);
      return v;
    };
    if (arg in VALUE_OPTIONS)
      config[VALUE_OPTIONS[/** @type {keyof typeof VALUE_OPTIONS} */ (arg)]] = value() || undefined;
    else if (arg === '-s') expect(value(), 'dir', arg);
    else if (arg === '-t') expect(value(), 'deb', arg);
    else if (arg === '--force' || arg === '--debug') continue;
    else if (arg === '--log') value();
    else if (arg === '-d' || arg === '--depends') config.depends.push(value());
    else if (arg === '--deb-recommends') config.recommends.push(value());
    else if (arg === '--deb-compression') config.deb = { compression: value() };
    else if (arg === '--after-install') config.scripts.postinstall = value();
    else if (arg === '--after-remove') config.scripts.postremove = value();
    else if (arg === '--package') output = value();
    else if (!arg.startsWith('-') && arg.includes('=')) config.contents.push(content(arg));
    else throw new Error(`fpm option ${arg} is not supported by scripts/fpmViaNfpm.js: add it there`);
  }
  if (!output || !config.name || !config.version || !config.arch) {
    throw new Error('electron-builder did not pass --package, --name, --version and --architecture');
  }
  return { config, output };
}

/** @param {string} got @param {string} want @param {string} option */
function expect(got, want, option) {
  if (got !== want) throw new Error(`fpm ${option} ${got} is not supported (only ${want})`);
}

/** fpm's `src=dst`: a folder is copied as a tree (dst ends with /), a file as itself. @param {string} arg */
function content(arg) {
  const at = arg.lastIndexOf('=');
  const src = arg.slice(0, at);
  const dst = arg.slice(at + 1).replace(/\/+$/, '');
  return statSync(src).isDirectory() ? { src, dst, type: 'tree' } : { src, dst };
}

function main() {
  const nfpm = process.env.MAKERDECK_NFPM;
  if (!nfpm) throw new Error('MAKERDECK_NFPM is not set: run this through scripts/packageLinux.js');
  const { config, output } = nfpmConfigFromFpm(process.argv.slice(2));
  const work = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-nfpm-'));
  try {
    const file = path.join(work, 'nfpm.yaml');
    writeFileSync(file, YAML.stringify(config));
    const r = spawnSync(nfpm, ['package', '--config', file, '--packager', 'deb', '--target', output], {
      encoding: 'utf8',
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`nfpm failed (exit ${r.status ?? r.signal})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(`fpmViaNfpm: ${/** @type {Error} */ (error).message}`);
    process.exit(1);
  }
}
