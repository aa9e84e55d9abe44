#!/usr/bin/env node
// Packages the built app with electron-builder.yml (`--linux deb`, which also leaves linux-unpacked/) and
// asserts what app.asar holds, that the bundled arduino-cli runs from the package, and what the deb holds.
//
// The Electron zip cannot be downloaded here, so electron-builder gets a stub `electronDist`
// (scripts/packageLinux.js, shared with `npm run dist`). Everything app-side (file filters, asar,
// asarUnpack, extraResources, the production node_modules) is the real thing.
//
// Fuses: the stub carries Electron's fuse sentinel and wire with Electron's default states, so the
// `electronFuses` of electron-builder.yml are really flipped in the packaged executable, and read back
// here with the @electron/fuses that electron-builder used. What this proves: the config holds every
// required value and electron-builder wrote it into the executable it shipped. What it cannot prove
// here: that a real Electron binary honours them (none can be downloaded).
//
// arduino-cli: only this machine's target (linux-x64) is built (or taken from the cache) before packaging,
// so CI compiles one target, not five; `npm run dist` fills all five.
//
// Usage: npm run build && node scripts/checkPackage.js [--keep]
//   --keep  keep the packaged output (printed at the end) instead of deleting it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARDUINO_CLI_VERSION, fillArduinoCliResources, readRecord } from './buildArduinoCli.js';
import { ELECTRON_DEFAULT_FUSES, FuseState, fuseIndex, fuses, fusesVersion, packageLinux } from './packageLinux.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireCjs = createRequire(import.meta.url);
const asar = /** @type {typeof import('@electron/asar')} */ (requireCjs('@electron/asar'));
const YAML = /** @type {typeof import('yaml')} */ (requireCjs('yaml'));
const keep = process.argv.includes('--keep');

/** The bundled arduino-cli inside the package's resources/ (linux-x64 build). */
const PACKAGED_CLI = 'arduino-cli/linux-x64/arduino-cli';
const sha256 = (/** @type {Buffer} */ data) => createHash('sha256').update(data).digest('hex');
const mib = (/** @type {number} */ bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Top-level entries allowed inside app.asar; anything else is a leak (sources, tests, configs). */
const ALLOWED_ROOT = new Set(['out', 'bin', 'package.json', 'node_modules']);
/** Built files the app cannot start without. */
const REQUIRED_BUILD = [
  'out/main/index.js',
  'out/main/cli.js',
  'out/preload/index.cjs',
  'out/renderer/index.html',
  'bin/makerdeck.js',
  'package.json',
];
/** Native addons that must live in app.asar.unpacked (linux-x64 build), and be loadable by a plain require. */
const NATIVE = [
  {
    name: '@napi-rs/keyring',
    file: 'node_modules/@napi-rs/keyring-linux-x64-gnu/keyring.linux-x64-gnu.node',
    exportsKey: 'Entry',
  },
  {
    name: 'serialport (@serialport/bindings-cpp)',
    file: 'node_modules/@serialport/bindings-cpp/prebuilds/linux-x64/@serialport+bindings-cpp.glibc.node',
    exportsKey: 'open',
  },
];

/**
 * electron-builder.yml's electronFuses must set each of these exactly (see its comment for why).
 * @type {Record<string, boolean>}
 */
const REQUIRED_FUSES = {
  runAsNode: false,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableCookieEncryption: true,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  grantFileProtocolExtraPrivileges: false,
  loadBrowserProcessSpecificV8Snapshot: false,
};
/** @type {string[]} */
const failures = [];
/** @type {string[]} */
const lines = [];
/**
 * @param {string} id
 * @param {string} label
 * @param {string[]} problems
 */
function check(id, label, problems) {
  lines.push(`${problems.length ? 'FAIL' : 'ok  '}  ${id}: ${label}`);
  for (const problem of problems.slice(0, 10)) lines.push(`        - ${problem}`);
  if (problems.length > 10) lines.push(`        - ... and ${problems.length - 10} more (all listed below)`);
  for (const problem of problems) failures.push(`${id}: ${problem}`);
}
/**
 * @param {string} message
 * @returns {never}
 */
function die(message) {
  console.error(`checkPackage: ${message}`);
  process.exit(1);
}
const seconds = (/** @type {number} */ start) => `${((performance.now() - start) / 1000).toFixed(1)}s`;

// ---- preconditions -----------------------------------------------------------------------------
for (const file of ['out/main/index.js', 'out/main/cli.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
  if (!existsSync(path.join(root, file))) die(`${file} is missing: run \`npm run build\` first`);
}
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

// ---- arduino-cli for this target, then package with a stub Electron ------------------------------------
const total = performance.now();
let start = performance.now();
const [cliBuild] = await fillArduinoCliResources({ targets: ['linux-x64'], log: (line) => console.log(line) }).catch(
  (/** @type {Error} */ error) => die(error.message),
);
const cliTime = seconds(start);
const work = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-package-'));
const outDir = path.join(work, 'dist');
start = performance.now();
const builder = await packageLinux({ targets: ['deb'], outDir, workDir: work }).catch((/** @type {Error} */ error) =>
  die(error.message),
);
const builderTime = seconds(start);
if (!builder.ok) {
  process.stderr.write(builder.output);
  die(`electron-builder --linux deb failed; log kept in ${work}`);
}

const resourcesDir = path.join(outDir, 'linux-unpacked', 'resources');
const archive = path.join(resourcesDir, 'app.asar');
const unpackedDir = `${archive}.unpacked`;
if (!existsSync(archive)) die(`electron-builder did not produce ${archive}; log kept in ${work}`);

start = performance.now();
// listPackage gives "/a/b" paths; work with "a/b".
const entries = asar
  .listPackage(archive, { isPack: false })
  .map((entry) => entry.replace(/\\/g, '/').replace(/^\//, ''));
const entrySet = new Set(entries);
const fileEntries = entries.filter((entry) => !('files' in asar.statFile(archive, entry, false)));

// ---- (a) the built app ----------------------------------------------------------------------------
const builtFiles = walk(path.join(root, 'out'))
  .map((file) => path.relative(root, file).split(path.sep).join('/'))
  .filter((file) => !file.endsWith('.map'));
const html = readFileSync(path.join(root, 'out/renderer/index.html'), 'utf8');
const htmlAssets = [...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)].map(
  (match) => `out/renderer/${match[1]}`,
);
check(
  '(a) built app',
  `${REQUIRED_BUILD.length} entry files, ${htmlAssets.length} assets referenced by index.html, all ${builtFiles.length} files of out/`,
  [...new Set([...REQUIRED_BUILD, ...htmlAssets, ...builtFiles])]
    .filter((file) => !entrySet.has(file))
    .map((file) => `missing from app.asar: ${file}`),
);
const packagedMain = entrySet.has('package.json')
  ? JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8')).main
  : undefined;
check(
  '(a) main',
  `the packaged package.json "main" (${packagedMain}) is in app.asar`,
  packagedMain && entrySet.has(path.posix.normalize(packagedMain))
    ? []
    : [`"main" ${packagedMain} is not a file in app.asar`],
);

// ---- (b) runtime dependencies only --------------------------------------------------------------
// electron-builder re-lays out node_modules (it may nest a duplicate under another dependent than npm
// did), so compare packages as name@version, then check that every dependency still resolves, from
// where its dependent sits in app.asar, to the version npm resolved for it.
const npmLs = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' });
if (!npmLs.stdout) die(`npm ls --omit=dev failed: ${npmLs.stderr}`);
const realDirs = npmLs.stdout
  .split('\n')
  .map((line) => line.trim())
  .filter(Boolean)
  .map((dir) => path.relative(root, dir).split(path.sep).join('/'))
  .filter((dir) => dir.startsWith('node_modules/'));
/**
 * @typedef {{ name: string, version: string, dependencies?: Record<string, string>,
 *   optionalDependencies?: Record<string, string> }} Manifest
 */
/** @type {(dir: string) => Manifest} */
const realManifest = (dir) => JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
/** @type {(dir: string) => Manifest} */
const asarManifest = (dir) => JSON.parse(asar.extractFile(archive, `${dir}/package.json`).toString('utf8'));
const packagedDirs = entries
  .filter((entry) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(entry))
  .map((entry) => path.posix.dirname(entry))
  .filter((dir) => /(^|\/)node_modules\/(@[^/]+\/)?[^/]+$/.test(dir));
const idOf = (/** @type {Manifest} */ manifest) => `${manifest.name}@${manifest.version}`;
const expected = new Map(realDirs.map((dir) => [idOf(realManifest(dir)), dir]));
const packaged = new Map(packagedDirs.map((dir) => [idOf(asarManifest(dir)), dir]));
check(
  '(b) deps',
  `node_modules holds exactly the ${expected.size} name@version of \`npm ls --omit=dev --all\` (${Object.keys(pkg.dependencies).join(', ')} + transitive)`,
  [
    ...[...expected]
      .filter(([id]) => !packaged.has(id))
      .map(([id, dir]) => `runtime package missing: ${id} (npm: ${dir})`),
    ...[...packaged].filter(([id]) => !expected.has(id)).map(([id, dir]) => `unexpected package: ${id} at ${dir}`),
  ],
);

/**
 * Node's lookup: <dir>/node_modules/<name>, then each ancestor's node_modules, up to the root.
 * @param {string} dir
 * @param {string} name
 * @param {(candidate: string) => boolean} exists
 */
function resolveFrom(dir, name, exists) {
  let base = dir;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (exists(candidate)) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}
/** @type {string[]} */
const resolutionProblems = [];
let edges = 0;
for (const dir of packagedDirs) {
  const manifest = asarManifest(dir);
  const realDir = expected.get(idOf(manifest));
  if (!realDir) continue;
  const wanted = { ...realManifest(realDir).dependencies, ...realManifest(realDir).optionalDependencies };
  for (const name of Object.keys(wanted)) {
    const realDep = resolveFrom(realDir, name, (candidate) => existsSync(path.join(root, candidate, 'package.json')));
    if (!realDep) continue; // an optional dependency for another platform
    edges += 1;
    const want = realManifest(realDep).version;
    const got = resolveFrom(dir, name, (candidate) => entrySet.has(`${candidate}/package.json`));
    if (!got) resolutionProblems.push(`${idOf(manifest)} (${dir}) cannot resolve ${name}@${want}`);
    else if (asarManifest(got).version !== want)
      resolutionProblems.push(
        `${idOf(manifest)} (${dir}) resolves ${name}@${asarManifest(got).version} at ${got}, npm gives it ${want}`,
      );
  }
}
check(
  '(b) resolution',
  `each of the ${edges} dependency edges resolves inside app.asar to the version npm resolved`,
  resolutionProblems,
);

const expectedNames = new Set([...expected.keys()].map((id) => id.slice(0, id.lastIndexOf('@'))));
const packagedNames = new Set([...packaged.keys()].map((id) => id.slice(0, id.lastIndexOf('@'))));
const devOnly = Object.keys(pkg.devDependencies ?? {}).filter((name) => !expectedNames.has(name));
const devAlsoRuntime = Object.keys(pkg.devDependencies ?? {}).filter((name) => expectedNames.has(name));
check(
  '(b) no devDependencies',
  `none of the ${devOnly.length} dev-only devDependencies${devAlsoRuntime.length ? ` (${devAlsoRuntime.join(', ')}: also a transitive runtime dependency, so expected)` : ''}`,
  devOnly.filter((name) => packagedNames.has(name)).map((name) => `devDependency packaged: ${name}`),
);

// ---- (c) no sources, tests or configs -------------------------------------------------------------
const appEntries = entries.filter((entry) => !entry.startsWith('node_modules/'));
check('(c) no sources', `root holds only ${[...ALLOWED_ROOT].join(', ')}; no .ts/.tsx/.map outside node_modules`, [
  ...[...new Set(entries.map((entry) => /** @type {string} */ (entry.split('/')[0])))]
    .filter((top) => !ALLOWED_ROOT.has(top))
    .map((top) => `unexpected top-level entry: ${top}`),
  ...appEntries.filter((entry) => /\.(tsx?|mts|cts|map)$/.test(entry)).map((entry) => `source file packaged: ${entry}`),
]);

// ---- (d) native addons unpacked, N-API, loadable ------------------------------------------------
/** @type {string[]} */
const nativeProblems = [];
for (const { name, file } of NATIVE) {
  if (!entrySet.has(file)) nativeProblems.push(`${name}: ${file} is not in the asar header`);
  else if (!asar.statFile(archive, file, false).unpacked)
    nativeProblems.push(`${name}: ${file} is not marked unpacked in the asar header`);
  if (!existsSync(path.join(unpackedDir, file)))
    nativeProblems.push(`${name}: app.asar.unpacked/${file} does not exist`);
}
check(
  '(d) unpacked',
  `native addons in app.asar.unpacked and marked unpacked: ${NATIVE.map(({ file }) => path.posix.basename(file)).join(', ')}`,
  nativeProblems,
);

const nodeFiles = fileEntries.filter((entry) => entry.endsWith('.node'));
check(
  '(d) N-API',
  `all ${nodeFiles.length} packaged .node files are unpacked and N-API (no Node-ABI-specific addon that would need an Electron rebuild)`,
  nodeFiles.flatMap((entry) => {
    const unpacked = asar.statFile(archive, entry, false).unpacked;
    const bytes = unpacked ? readFileSync(path.join(unpackedDir, entry)) : asar.extractFile(archive, entry);
    // An N-API addon only links napi_* functions; one that links V8's C++ API (_ZN2v8 Itanium, @v8@@ MSVC)
    // or registers through node_module_register / node_register_module_vNNN is tied to one Node ABI.
    const abiBound = ['_ZN2v8', '@v8@@', 'node_register_module_v', 'node_module_register'].some((marker) =>
      bytes.includes(marker),
    );
    return [
      ...(unpacked ? [] : [`${entry} is packed inside app.asar (cannot be dlopen'ed)`]),
      ...(abiBound
        ? [`${entry} links V8/Node-ABI symbols, not only N-API: it cannot load in Electron without a rebuild`]
        : []),
    ];
  }),
);

// A real load of each unpacked addon, in a child Node so a crash is reported, not fatal to this script.
for (const { name, file, exportsKey } of NATIVE) {
  const target = path.join(unpackedDir, file);
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const m = require(${JSON.stringify(target)}); if (typeof m[${JSON.stringify(exportsKey)}] === 'undefined') { console.error('no export ' + ${JSON.stringify(exportsKey)}); process.exit(2); } console.log(Object.keys(m).length);`,
    ],
    { encoding: 'utf8' },
  );
  check(
    '(d) load',
    `require() of the unpacked ${name} addon under Node ${process.versions.node} (exports ${exportsKey}${probe.status === 0 ? `, ${probe.stdout.trim()} exports` : ''})`,
    probe.status === 0
      ? []
      : [
          `${target}: ${
            (probe.stderr || probe.stdout)
              .trim()
              .split('\n')
              .find((line) => /Error|no export/.test(line)) ?? `exit ${probe.status}`
          }`,
        ],
  );
}

// The packaged node_modules resolves on its own: extract app.asar (unpacked files included) and require each runtime dependency from there.
const extracted = path.join(work, 'app-extracted');
asar.extractAll(archive, extracted);
const smoke = spawnSync(
  process.execPath,
  [
    '--input-type=commonjs',
    '-e',
    `
    const { createRequire } = require('node:module');
    const req = createRequire(${JSON.stringify(path.join(extracted, 'package.json'))});
    const failed = [];
    for (const dep of ${JSON.stringify(Object.keys(pkg.dependencies))}) { try { req(dep); } catch (e) { failed.push(dep + ': ' + e.message.split('\\n')[0]); } }
    try { req('@napi-rs/keyring').Entry || failed.push('@napi-rs/keyring: no Entry export'); } catch (e) { failed.push('@napi-rs/keyring: ' + e.message.split('\\n')[0]); }
    try { req('@serialport/bindings-cpp').autoDetect(); } catch (e) { failed.push('@serialport/bindings-cpp autoDetect: ' + e.message.split('\\n')[0]); }
    if (failed.length) { console.log(failed.join('\\n')); process.exit(1); }
  `,
  ],
  { encoding: 'utf8', cwd: extracted },
);
check(
  '(d) require deps',
  `every runtime dependency (${Object.keys(pkg.dependencies).join(', ')}) and the serialport binding load from the extracted package`,
  smoke.status === 0 ? [] : (smoke.stdout || smoke.stderr).trim().split('\n').filter(Boolean),
);

// ---- extraResources ----------------------------------------------------------------------------
const resourceFiles = walk(resourcesDir)
  .map((file) => path.relative(resourcesDir, file).split(path.sep).join('/'))
  .filter((file) => file !== 'app.asar' && !file.startsWith('app.asar.unpacked/'));
check(
  '(e) extraResources',
  `${resourceFiles.length} file(s) besides app.asar, no README, linux-x64's arduino-cli and no other target's`,
  [
    ...resourceFiles
      .filter((file) => /(^|\/)README[^/]*$/i.test(file))
      .map((file) => `README shipped: resources/${file}`),
    ...resourceFiles
      .filter((file) => /^arduino-cli\//.test(file) && !file.startsWith('arduino-cli/linux-x64/'))
      .map((file) => `other platform's arduino-cli shipped: resources/${file}`),
    ...(resourceFiles.includes(PACKAGED_CLI) ? [] : [`resources/${PACKAGED_CLI} is not in the package`]),
    ...(resourceFiles.includes('firmware/firmware.ino')
      ? []
      : ['the firmware sketch (resources/firmware/firmware.ino) is not in the package']),
    ...resourceFiles
      .filter((file) => /(^|\/)config\.h$/.test(file))
      .map((file) => `a config.h was shipped: resources/${file}`),
  ],
);
// ---- (f) Electron fuses -----------------------------------------------------------------------------
const config = YAML.parse(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8'));
check(
  '(f) fuses config',
  `electron-builder.yml electronFuses sets all ${Object.keys(REQUIRED_FUSES).length}: ${Object.entries(REQUIRED_FUSES)
    .map(([name, on]) => `${name}=${on}`)
    .join(', ')}`,
  Object.entries(REQUIRED_FUSES)
    .filter(([name, on]) => config.electronFuses?.[name] !== on)
    .map(([name, on]) => `electronFuses.${name} is ${JSON.stringify(config.electronFuses?.[name])}, must be ${on}`),
);
const executable = path.join(outDir, 'linux-unpacked', pkg.name);
const wire = await fuses
  .getCurrentFuseWire(executable)
  .catch((/** @type {Error} */ error) => ({ error: error.message }));
const flipped = Object.keys(REQUIRED_FUSES).filter((name) => ELECTRON_DEFAULT_FUSES[name] !== REQUIRED_FUSES[name]);
check(
  '(f) fuses flipped',
  `read back from the packaged ${path.basename(executable)} with @electron/fuses ${fusesVersion}: all ${Object.keys(REQUIRED_FUSES).length} as required (${flipped.length} changed from Electron's defaults: ${flipped.join(', ')})`,
  wire.error
    ? [`${executable}: ${wire.error}`]
    : Object.entries(REQUIRED_FUSES).flatMap(([name, on]) => {
        const state = wire[fuseIndex(name)];
        const want = on ? FuseState.ENABLE : FuseState.DISABLE;
        return state === want
          ? []
          : [`${name} is ${FuseState[state] ?? state} in the packaged executable, must be ${FuseState[want]}`];
      }),
);

// ---- (g) the bundled arduino-cli runs from the package ----------------------------------------------
const record = readRecord();
const recorded = record.targets['linux-x64'];
const packagedCli = path.join(resourcesDir, PACKAGED_CLI);
const cliRun = spawnSync(packagedCli, ['version', '--format', 'json'], {
  encoding: 'utf8',
  timeout: 30_000,
  // Its own empty config folder: `version` must neither read the user's config nor go online.
  env: { PATH: process.env.PATH, HOME: work, ARDUINO_UPDATER_ENABLE_NOTIFICATION: 'false' },
});
const cliVersion = (() => {
  try {
    return JSON.parse(cliRun.stdout).VersionString;
  } catch {
    return undefined;
  }
})();
const packagedSha = existsSync(packagedCli) ? sha256(readFileSync(packagedCli)) : undefined;
check(
  '(g) arduino-cli',
  `resources/${PACKAGED_CLI} runs: \`version\` says ${cliVersion ?? '?'} (pinned ${ARDUINO_CLI_VERSION}); ` +
    `SHA-256 ${packagedSha?.slice(0, 16) ?? '?'}… as resources/arduino-cli/SHA256SUMS records`,
  [
    ...(cliRun.status === 0
      ? []
      : [`${packagedCli} version failed (exit ${cliRun.status ?? cliRun.error?.message}): ${cliRun.stderr}`]),
    ...(cliRun.status === 0 && cliVersion !== ARDUINO_CLI_VERSION
      ? [`version says ${cliVersion}, pinned ${ARDUINO_CLI_VERSION}`]
      : []),
    ...(record.version === ARDUINO_CLI_VERSION ? [] : [`build.json records version ${record.version}`]),
    ...(recorded ? [] : ['resources/arduino-cli/build.json records no linux-x64 binary']),
    ...(recorded && packagedSha !== recorded.sha256
      ? [`packaged SHA-256 ${packagedSha} != recorded ${recorded.sha256}`]
      : []),
    ...(recorded &&
    !readFileSync(path.join(root, 'resources/arduino-cli/SHA256SUMS'), 'utf8').includes(
      `${recorded.sha256}  linux-x64/arduino-cli`,
    )
      ? ['SHA256SUMS does not list linux-x64/arduino-cli with the recorded SHA-256']
      : []),
  ],
);

// ---- (h) the deb --------------------------------------------------------------------------------------
const debName = `${pkg.name}_${pkg.version}_amd64.deb`;
const deb = path.join(outDir, debName);
const {
  problems: debProblems,
  control,
  entries: debFiles,
} = existsSync(deb) ? checkDeb(deb, recorded) : { problems: [`${debName} was not built`], control: {}, entries: [] };
check(
  '(h) deb',
  `${debName} (${existsSync(deb) ? mib(statSync(deb).size) : '?'}, ${debFiles.length} entries): Package, Version, ` +
    `Architecture, Section, Homepage ${control.Homepage ?? '?'}; arduino-cli inside is executable and as recorded`,
  debProblems,
);
const checkTime = seconds(start);

// ---- report -------------------------------------------------------------------------------------
const unpackedFiles = existsSync(unpackedDir) ? walk(unpackedDir) : [];
console.log(
  `checkPackage: electron-builder ${JSON.parse(readFileSync(path.join(root, 'node_modules/electron-builder/package.json'), 'utf8')).version} --linux deb (${builder.electron})`,
);
console.log(
  `  app.asar: ${mib(statSync(archive).size)}, ${fileEntries.length} files (${fileEntries.filter((e) => !e.startsWith('node_modules/')).length} app, ${fileEntries.filter((e) => e.startsWith('node_modules/')).length} node_modules, ${packagedDirs.length} package folders, ${packaged.size} distinct name@version)`,
);
console.log(
  `  app.asar.unpacked: ${mib(unpackedFiles.reduce((sum, file) => sum + statSync(file).size, 0))}, ${unpackedFiles.length} files`,
);
for (const line of lines) console.log(`  ${line}`);
console.log(
  `  time: arduino-cli ${cliTime} (${cliBuild?.built ? 'built' : 'cached'}), electron-builder ${builderTime}, ` +
    `checks ${checkTime}, total ${seconds(total)}`,
);

if (keep) console.log(`  output kept in ${work}`);
else rmSync(work, { recursive: true, force: true });

if (failures.length) {
  console.error(`checkPackage: ${failures.length} failure(s):`);
  for (const failure of failures) console.error(`  ${failure}`);
  process.exit(1);
}
console.log('checkPackage: all package assertions passed');

/**
 * The deb's control fields and file list (dpkg-deb), and what is wrong with them: the fields the package
 * needs, the app's files, and the bundled arduino-cli (executable, the recorded size and SHA-256).
 * @param {string} deb
 * @param {{ bytes: number, sha256: string } | undefined} recorded
 */
function checkDeb(deb, recorded) {
  /** @type {string[]} */
  const problems = [];
  const info = spawnSync('dpkg-deb', ['--field', deb], { encoding: 'utf8' });
  const contents = spawnSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (info.status !== 0 || contents.status !== 0) problems.push(`dpkg-deb failed: ${info.stderr}${contents.stderr}`);
  /** @type {Record<string, string>} */
  const control = Object.fromEntries([...info.stdout.matchAll(/^([A-Za-z-]+): ?(.*)$/gm)].map((m) => [m[1], m[2]]));
  /** @type {Record<string, string>} */
  const want = {
    Package: pkg.name,
    Version: pkg.version,
    Architecture: 'amd64',
    Section: 'devel',
    Homepage: pkg.homepage,
  };
  for (const [field, value] of Object.entries(want)) {
    if (control[field] !== value)
      problems.push(`control ${field} is ${JSON.stringify(control[field])}, want ${JSON.stringify(value)}`);
  }
  for (const field of ['Maintainer', 'Description', 'Depends'])
    if (!control[field]) problems.push(`control has no ${field}`);
  const entries = contents.stdout.split('\n').filter(Boolean);
  const line = (/** @type {string} */ file) => entries.find((l) => l.endsWith(` ./${file}`));
  const app = `opt/${pkg.productName}`;
  for (const file of [
    `${app}/${pkg.name}`,
    `${app}/resources/app.asar`,
    `usr/share/applications/${pkg.name}.desktop`,
  ]) {
    if (!line(file)) problems.push(`the deb has no ${file}`);
  }
  const cli = `${app}/resources/${PACKAGED_CLI}`;
  const cliLine = line(cli);
  if (!cliLine) problems.push(`the deb has no ${cli}`);
  else if (!cliLine.startsWith('-rwxr-xr-x') || !cliLine.includes(` ${recorded?.bytes} `))
    problems.push(`the deb's arduino-cli is not an executable of ${recorded?.bytes} bytes: ${cliLine}`);
  else {
    const script = 'dpkg-deb --fsys-tarfile "$1" | tar -xO "./$2"';
    const extracted = spawnSync('sh', ['-c', script, 'sh', deb, cli], { maxBuffer: 256 * 1024 * 1024 });
    const debSha = sha256(extracted.stdout);
    if (debSha !== recorded?.sha256)
      problems.push(`the deb's arduino-cli SHA-256 ${debSha} != recorded ${recorded?.sha256}`);
  }
  return { problems, control, entries };
}

/**
 * @param {string} dir
 * @returns {string[]}
 */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}
