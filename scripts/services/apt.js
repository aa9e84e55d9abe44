// Make sure the Debian packages a test service needs are installed.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isMain, run } from './proc.js';

let aptUpdated = false;

/**
 * Packages from `pkgs` that dpkg does not report as fully installed.
 * @param {string[]} pkgs
 */
export async function missingDebianPackages(pkgs) {
  const missing = [];
  for (const pkg of pkgs) {
    let status = '';
    try {
      status = (await run('dpkg-query', ['-W', '-f=${Status}', pkg])).stdout.trim();
    } catch {
      // no dpkg-query: not Debian, everything counts as missing
    }
    if (status !== 'install ok installed') missing.push(pkg);
  }
  return missing;
}

/**
 * Installs what dpkg lacks of `pkgs` when root on Debian; otherwise throws naming the command that would.
 * @param {string[]} pkgs
 */
export async function ensureDebianPackages(pkgs) {
  const missing = await missingDebianPackages(pkgs);
  if (missing.length === 0) return;
  const cmd = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !existsSync('/etc/debian_version')) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; install them as root with: ${cmd}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    const r = await run('apt-get', ['update'], { env, timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error(`apt-get update failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-2000)}`);
    aptUpdated = true;
  }
  console.log(`[services] apt-get install ${missing.join(' ')}`);
  const r = await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, timeoutMs: 900_000 });
  if (r.code !== 0) {
    throw new Error(
      `apt-get install ${missing.join(' ')} failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-2000)}`,
    );
  }
}

/**
 * Absolute path of `name` on PATH; throws naming the Debian package `pkg` if it is not there.
 * @param {string} name
 * @param {string} pkg
 */
export function requireCommand(name, pkg) {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // keep looking
    }
  }
  throw new Error(
    `command '${name}' not found; install Debian package ${pkg}: apt-get install -y --no-install-recommends ${pkg}`,
  );
}

if (isMain(import.meta.url) && process.argv.includes('--self-test')) {
  console.log(
    'missing of [coreutils, makerdeck-no-such-pkg]:',
    await missingDebianPackages(['coreutils', 'makerdeck-no-such-pkg']),
  );
  await ensureDebianPackages(['coreutils']);
  console.log('requireCommand(dpkg-query):', requireCommand('dpkg-query', 'dpkg'));
  try {
    requireCommand('makerdeck-no-such-cmd', 'makerdeck-no-such-pkg');
  } catch (err) {
    console.log('expected error:', /** @type {Error} */ (err).message);
  }
  console.log('apt self-test OK');
}
