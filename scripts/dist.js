#!/usr/bin/env node
// `npm run dist`: the Linux packages (deb and AppImage, x64) in dist/, each carrying arduino-cli.
//   1. builds the app (electron-vite) and fills resources/arduino-cli for all five targets
//      (scripts/buildArduinoCli.js; cached after the first run),
//   2. runs electron-builder with electron-builder.yml (scripts/packageLinux.js: the installed Electron,
//      or the stub where its binary could not be downloaded — such a package does not start),
//   3. deb: through nfpm (scripts/fpmViaNfpm.js). AppImage: electron-builder downloads its AppImage
//      runtime and mksquashfs from GitHub, or takes them from APPIMAGE_TOOLS_PATH. Where neither works
//      (as on this network) the AppImage is skipped with the reason, unless --strict.
//
// Usage: node scripts/dist.js [--strict] [--targets deb,AppImage]
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillArduinoCliResources } from './buildArduinoCli.js';
import { packageLinux } from './packageLinux.js';
import { run } from './services/proc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist');
const args = process.argv.slice(2);
const strict = args.includes('--strict');
const targetsArg = args.find((_, i) => args[i - 1] === '--targets') ?? 'deb,AppImage';
const targets = targetsArg.split(',').filter(Boolean);
const mib = (/** @type {number} */ bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** @param {string} message @returns {never} */
function die(message) {
  console.error(`dist: ${message}`);
  process.exit(1);
}

const t0 = performance.now();
console.log('dist: building the app');
const build = await run(
  process.execPath,
  [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
  {
    cwd: root,
  },
);
if (build.code !== 0) die(`the build failed:\n${build.stderr.slice(-3000)}`);
console.log('dist: arduino-cli for every target');
await fillArduinoCliResources({ log: (line) => console.log(`  ${line}`) }).catch((error) => die(error.message));

rmSync(outDir, { recursive: true, force: true });
const workDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-dist-'));
/** @type {string[]} */
const skipped = [];
for (const target of targets) {
  console.log(`dist: electron-builder --linux ${target}`);
  // The first target packs the app; later ones package that same linux-unpacked/ again.
  const unpacked = path.join(outDir, 'linux-unpacked');
  const prepackaged = existsSync(unpacked) ? unpacked : undefined;
  const result = await packageLinux({ targets: [target], outDir, workDir, prepackaged }).catch((error) =>
    die(error.message),
  );
  if (result.ok) {
    console.log(`  done in ${result.seconds.toFixed(1)} s (${result.electron})`);
    continue;
  }
  const reason = appImageToolsMissing(target, result.output);
  if (!reason || strict)
    die(`electron-builder --linux ${target} failed (log: ${workDir}):\n${result.output.slice(-4000)}`);
  skipped.push(`${target}: ${reason}`);
}

console.log(`dist: ${path.relative(root, outDir)}/ after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
for (const file of readdirSync(outDir).filter((name) => /\.(deb|AppImage)$/.test(name))) {
  console.log(`  ${file}  ${mib(statSync(path.join(outDir, file)).size)}`);
}
for (const line of skipped) console.log(`  SKIPPED ${line}`);
rmSync(workDir, { recursive: true, force: true });

/**
 * Why the AppImage could not be made, when it is the known missing-download case; undefined otherwise.
 * @param {string} target
 * @param {string} output
 */
function appImageToolsMissing(target, output) {
  if (target !== 'AppImage' || process.env.APPIMAGE_TOOLS_PATH) return undefined;
  const pattern = /electron-builder-binaries|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|ECONNRESET|EAI_AGAIN|status code 40\d/i;
  const evidence = output.split('\n').find((line) => pattern.test(line));
  if (!evidence) return undefined;
  return (
    "electron-builder could not download its AppImage tools (appimage-tools-runtime from GitHub's " +
    'electron-userland/electron-builder-binaries). On a connected machine it does; or set APPIMAGE_TOOLS_PATH ' +
    'to a folder with mksquashfs, desktop-file-validate, runtimes/runtime-x64 and lib/x64. ' +
    `It said: ${evidence.trim().slice(0, 300)}`
  );
}
