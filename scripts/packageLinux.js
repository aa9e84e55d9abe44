// Runs electron-builder for Linux targets with electron-builder.yml, for `npm run dist` and
// `npm run check:package`.
//
// The Electron zip cannot be downloaded here, so electron-builder gets `electronDist`: the installed
// Electron when its binary is there, else a stub folder holding only an executable named `electron`
// (electron-builder copies the folder, renames `electron` to the app's executable and adds
// resources/app.asar). Everything app-side (file filters, asar, asarUnpack, extraResources, the
// production node_modules) is the real thing. The stub carries Electron's fuse sentinel and wire with
// Electron's default states, so electron-builder really flips the `electronFuses` in it.
//
// deb: electron-builder hands its fpm command line to scripts/fpmViaNfpm.js (CUSTOM_FPM_PATH), which
// builds the same package with nfpm (a pinned Go module, built once into the rig cache), because fpm
// is a download from GitHub that this network cannot reach.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectron } from './electronRuntime.js';
import { defaultRigCache, findGo } from './rig/common.js';
import { run } from './services/proc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// The @electron/fuses electron-builder itself loads (app-builder-lib's dependency), not whatever is hoisted.
const builderRequire = createRequire(
  createRequire(require.resolve('electron-builder/package.json')).resolve('app-builder-lib/package.json'),
);
/** @electron/fuses as electron-builder uses it, and its constants. */
export const fuses = builderRequire('@electron/fuses');
export const { FuseState, SENTINEL } = builderRequire('@electron/fuses/dist/constants.js');
export const fusesVersion = builderRequire('@electron/fuses/package.json').version;

/** The nfpm release that builds the deb (Go module github.com/goreleaser/nfpm/v2). */
export const NFPM_VERSION = '2.45.2';

/**
 * Electron's own default for each fuse (its fuses.json5), which the stub starts from.
 * @type {Record<string, boolean>}
 */
export const ELECTRON_DEFAULT_FUSES = {
  runAsNode: true,
  enableCookieEncryption: false,
  enableNodeOptionsEnvironmentVariable: true,
  enableNodeCliInspectArguments: true,
  enableEmbeddedAsarIntegrityValidation: false,
  onlyLoadAppFromAsar: false,
  loadBrowserProcessSpecificV8Snapshot: false,
  grantFileProtocolExtraPrivileges: true,
};

/**
 * The wire index of an electron-builder option name (runAsNode -> FuseV1Options.RunAsNode).
 * @param {string} name
 * @returns {number}
 */
export const fuseIndex = (name) => fuses.FuseV1Options[name.charAt(0).toUpperCase() + name.slice(1)];

/** Electron's fuse wire as a real binary carries it: sentinel, version 1, length, one state byte per fuse. */
function stubFuseWire() {
  const names = Object.keys(ELECTRON_DEFAULT_FUSES).sort((a, b) => fuseIndex(a) - fuseIndex(b));
  const states = names.map((name) => (ELECTRON_DEFAULT_FUSES[name] ? FuseState.ENABLE : FuseState.DISABLE));
  return Buffer.concat([
    Buffer.from(SENTINEL, 'ascii'),
    Buffer.from([Number(fuses.FuseVersion.V1), names.length, ...states]),
    Buffer.from('\n'),
  ]);
}

/**
 * Write the stub Electron folder into `dir` and return it.
 * @param {string} dir
 */
export function writeStubElectron(dir) {
  mkdirSync(dir, { recursive: true });
  const exe = path.join(dir, 'electron');
  writeFileSync(
    exe,
    Buffer.concat([
      Buffer.from('#!/bin/sh\necho "stub Electron used by scripts/packageLinux.js: not a runnable app" >&2\nexit 1\n'),
      stubFuseWire(),
    ]),
  );
  chmodSync(exe, 0o755);
  return dir;
}

/**
 * nfpm, built once from its Go module into the rig cache (`go install` checks its go.sum with the checksum database).
 * @param {{ cacheDir?: string, log?: (line: string) => void }} [options]
 */
export async function ensureNfpm({ cacheDir = defaultRigCache(), log = console.log } = {}) {
  const binDir = path.join(cacheDir, `nfpm-${NFPM_VERSION}-${process.platform}-${process.arch}`);
  const bin = path.join(binDir, 'nfpm');
  if (existsSync(bin)) return bin;
  const go = findGo(`to build nfpm ${NFPM_VERSION}, which makes the deb (once per cache)`);
  const tmpDir = `${binDir}.tmp-${process.pid}`;
  log(`[dist] building nfpm ${NFPM_VERSION} with ${go} (once per cache)`);
  const r = await run(go, ['install', '-trimpath', `github.com/goreleaser/nfpm/v2/cmd/nfpm@v${NFPM_VERSION}`], {
    env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOBIN: tmpDir, GOFLAGS: '-buildvcs=false' },
    timeoutMs: 20 * 60_000,
  });
  if (r.code !== 0) {
    rmSync(tmpDir, { recursive: true, force: true });
    throw new Error(`go install nfpm@v${NFPM_VERSION} failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-3000)}`);
  }
  try {
    renameSync(tmpDir, binDir);
  } catch (error) {
    rmSync(tmpDir, { recursive: true, force: true }); // another process put it there first
    if (!existsSync(bin)) throw error;
  }
  return bin;
}

/**
 * Run electron-builder for `targets` (e.g. ['dir'], ['deb', 'AppImage']) into `outDir`, x64.
 * `prepackaged`: an unpacked app folder (linux-unpacked) to package again instead of packing the app anew.
 * @param {{ targets: string[], outDir: string, workDir: string, prepackaged?: string, extraConfig?: string[],
 *   env?: NodeJS.ProcessEnv }} options
 * @returns {Promise<{ ok: boolean, output: string, seconds: number, electron: string }>}
 */
export async function packageLinux({ targets, outDir, workDir, prepackaged, extraConfig = [], env = {} }) {
  mkdirSync(workDir, { recursive: true });
  const electronVersion = JSON.parse(
    readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8'),
  ).version;
  const real = findElectron();
  const electronDist =
    'path' in real ? path.dirname(real.path) : writeStubElectron(path.join(workDir, 'electron-dist'));
  /** @type {NodeJS.ProcessEnv} */
  const builderEnv = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', ...env };
  if (targets.includes('deb') && !process.env.CUSTOM_FPM_PATH && process.env.USE_SYSTEM_FPM !== 'true') {
    builderEnv.CUSTOM_FPM_PATH = path.join(root, 'scripts', 'fpmViaNfpm.js');
    builderEnv.MAKERDECK_NFPM = await ensureNfpm();
  }
  const t0 = performance.now();
  const builder = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules/electron-builder/cli.js'),
      '--linux',
      ...targets,
      '--x64',
      '--publish',
      'never',
      '--config',
      'electron-builder.yml',
      `-c.electronDist=${electronDist}`,
      `-c.electronVersion=${electronVersion}`,
      `-c.directories.output=${outDir}`,
      ...(prepackaged ? ['--prepackaged', prepackaged] : []),
      ...extraConfig,
    ],
    { cwd: root, encoding: 'utf8', env: builderEnv, maxBuffer: 64 * 1024 * 1024 },
  );
  const output = `${builder.stdout ?? ''}${builder.stderr ?? ''}`;
  writeFileSync(path.join(workDir, 'electron-builder.log'), output);
  return {
    ok: builder.status === 0,
    output,
    seconds: (performance.now() - t0) / 1000,
    electron: 'path' in real ? `Electron ${electronVersion}` : `stub Electron ${electronVersion}`,
  };
}
