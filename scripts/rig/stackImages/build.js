// Test rig: builds one stack image (see recipes.js) with the docker CLI, and the Go binaries the
// influxdb and telegraf images copy in (go install, cached under cacheDir/stack-images/bin).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireCommand } from '../../services/apt.js';
import { run } from '../../services/proc.js';
import { findGo } from '../common.js';
import {
  BASE_IMPORT_CHANGES,
  DEBIAN_SOURCES,
  DEBIAN_SUITE,
  LABEL_ACTUAL,
  LABEL_RECIPE,
  LABEL_RIG,
  MMDEBSTRAP_ARGS,
  STACK_RECIPE_DIR,
  sha256,
  standInBuildArgs,
} from './recipes.js';

/**
 * @typedef {import('./recipes.js').ImageSpec} ImageSpec
 * @typedef {import('./recipes.js').GoBuild} GoBuild
 * @typedef {import('./recipes.js').Log} Log
 * @typedef {import('./recipes.js').Docker} Docker
 */

/** The docker CLI: Debian's (docker.io, same release as the dockerd we run) when installed. */
export function dockerCli() {
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : requireCommand('docker', 'docker.io');
}

/**
 * The docker CLI's environment: our dockerd, a private config dir, nothing from the user's contexts.
 * @param {string} dockerHost
 * @param {string} configDir
 */
export function dockerEnv(dockerHost, configDir) {
  /** @type {NodeJS.ProcessEnv} */
  const env = {
    ...process.env,
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: configDir,
    DOCKER_BUILDKIT: '0',
    DOCKER_CLI_HINTS: 'false',
  };
  for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION']) delete env[k];
  return env;
}

/**
 * Builds one image and labels it with its recipe hash.
 * @param {{ name: string, spec: ImageSpec, recipe: string, dk: Docker, work: string, home: string, log: Log,
 *   rebuildGo: boolean }} options
 */
export async function buildImage({ name, spec, recipe, dk, work, home, log, rebuildGo }) {
  const labels = [`${LABEL_RIG}=true`, `${LABEL_RECIPE}=${recipe}`];
  if (spec.actual) labels.push(`${LABEL_ACTUAL}=${spec.actual}`);
  if (spec.kind === 'rootfs') {
    const tar = path.join(work, 'rootfs.tar');
    const mmdebstrap = requireCommand('mmdebstrap', 'mmdebstrap');
    log(`[stack] ${name}: mmdebstrap ${DEBIAN_SUITE} (minbase)`);
    const hook = `sh ${JSON.stringify(path.join(STACK_RECIPE_DIR, spec.dir, 'customize.sh'))} "$1"`;
    const r = await run(
      mmdebstrap,
      [...MMDEBSTRAP_ARGS, `--customize-hook=${hook}`, DEBIAN_SUITE, tar, ...DEBIAN_SOURCES],
      {
        timeoutMs: 900_000,
        env: { ...process.env, TMPDIR: work },
      },
    );
    if (r.code !== 0) throw new Error(`mmdebstrap failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`);
    const changes = [...BASE_IMPORT_CHANGES, ...labels.map((l) => `LABEL ${l.replace(/=(.*)$/, '="$1"')}`)].flatMap(
      (c) => ['--change', c],
    );
    await dk(['import', ...changes, tar, name]);
    rmSync(tar, { force: true });
    return;
  }
  if (spec.kind === 'stand-in') {
    const ctx = path.join(STACK_RECIPE_DIR, 'stand-in');
    const args = Object.entries(standInBuildArgs(name, spec)).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
    await dk([
      'build',
      '--rm',
      '--force-rm',
      '-f',
      path.join(ctx, 'service.Dockerfile'),
      ...args,
      ...labels.flatMap((l) => ['--label', l]),
      '-t',
      name,
      ctx,
    ]);
    return;
  }
  // dockerfile: a private copy of the recipe dir as the context, plus the Go binaries
  const ctx = path.join(work, spec.dir);
  cpSync(path.join(STACK_RECIPE_DIR, spec.dir), ctx, { recursive: true });
  if (spec.go) {
    const { dir } = await ensureGoBinaries(spec.go, home, log, rebuildGo);
    for (const f of readdirSync(dir)) if (f !== 'build.json') cpSync(path.join(dir, f), path.join(ctx, f));
  }
  log(`[stack] ${name}: docker build (tests/rig/stack/${spec.dir})`);
  await dk(['build', '--rm', '--force-rm', ...labels.flatMap((l) => ['--label', l]), '-t', name, ctx], {
    timeoutMs: 1_200_000,
  });
}

/**
 * `go install module/pkg@vX` (CGO_ENABLED=0) into cacheDir/stack-images/bin/<name>-<version>-<hash>/.
 * @param {GoBuild} go
 * @param {string} home
 * @param {Log} log
 * @param {boolean} force
 */
async function ensureGoBinaries(go, home, log, force) {
  const id = sha256(go).slice(0, 12);
  const base = go.module.split('/').pop();
  const dir = path.join(home, 'bin', `${base}-${go.version}-${process.platform}-${process.arch}-${id}`);
  const bins = go.packages.map((p) => path.join(dir, path.basename(p)));
  if (!force && bins.every((b) => existsSync(b)) && existsSync(path.join(dir, 'build.json')))
    return { dir, built: false };
  const goBin = findGo('to build influxd and telegraf (once per cache)');
  const tmp = mkdtempSync(path.join(home, 'gobin-'));
  const env = {
    ...process.env,
    CGO_ENABLED: '0',
    GOTOOLCHAIN: 'local', // never fetch another Go toolchain
    GOWORK: 'off',
    GOFLAGS: '-buildvcs=false',
    GOBIN: tmp,
  };
  const targets = go.packages.map((p) => `${go.module}/${p}@v${go.version}`);
  const args = ['install', '-trimpath', '-ldflags', go.ldflags];
  if (go.tags.length) args.push('-tags', go.tags.join(','));
  log(`[stack] go install ${targets.join(' ')}${go.tags.length ? ` (tags ${go.tags.join(',')})` : ''}`);
  const t0 = performance.now();
  // go install pkg@version resolves the module's own go.mod/go.sum (neither has replace
  // directives at these versions), so no wrapper module is needed; run outside any module.
  const r = await run(goBin, [...args, ...targets], { cwd: home, env, timeoutMs: 30 * 60_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`go install ${targets.join(' ')} failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`);
  }
  const goVersion = (await run(goBin, ['env', 'GOVERSION'], { env })).stdout.trim();
  writeFileSync(
    path.join(tmp, 'build.json'),
    `${JSON.stringify({ ...go, goVersion, seconds: Math.round(seconds) }, null, 2)}\n`,
  );
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  renameSync(tmp, dir);
  log(
    `[stack] built ${go.packages.map((p) => path.basename(p)).join(', ')} ${go.version} in ${seconds.toFixed(1)} s (${goVersion})`,
  );
  return { dir, built: true };
}
