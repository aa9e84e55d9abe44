// Test rig: the images Makerdeck's backing stack (stack/compose.yaml) runs, made without any
// container registry and tagged with the names compose pins, so tests can run the real stack on a
// private dockerd (scripts/services/dockerd.js). Node built-ins only (plus the sibling helpers).
//
//   - makerdeck-rig/debian:bookworm  Debian 12 minbase from mmdebstrap, `docker import`ed
//   - rabbitmq:4.1-management        Debian's real rabbitmq-server 3.10 + MQTT + management plugins
//   - influxdb:1.11                  the real InfluxDB 1.8.10 (Go module, built here), Flux on
//   - telegraf:1.34                  the real Telegraf 1.34.4, trimmed build (Go module, built here)
//   - kapacitor:1.7, chronograf:1.10, grafana/grafana:11.5.2, portainer/portainer-ce:2.27.1:
//     STAND-INs (label dev.makerdeck.stand-in=true) serving the real ports and health endpoints
//
//   import { ensureStackImages, STACK_DEBIAN_PACKAGES } from './scripts/rig/stack-images.js';
//   await ensureDebianPackages(STACK_DEBIAN_PACKAGES);         // scripts/services/apt.js
//   const svc = await startDockerd({ dir });                   // scripts/services/dockerd.js
//   await ensureStackImages({ dockerHost: svc.host });         // ~5 s from the cached tarball
//
// Recipes (Dockerfiles, entrypoints, configs) are in tests/rig/stack/. The first run for a recipe
// builds everything (needs Debian's mirror, the Go module proxy and Go) and `docker save`s the
// images into one tarball in the cache; later runs, on any fresh dockerd, just `docker load` it.
//
// Self-check: node scripts/rig/stack-images.js --self-test [--rebuild]
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingDebianPackages, requireCommand } from '../services/apt.js';
import { isMain, run, sleep } from '../services/proc.js';
import { defaultRigCache, findGo } from './common.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Dockerfiles, entrypoints and configs of the stack images. */
export const STACK_RECIPE_DIR = path.join(repoRoot, 'tests', 'rig', 'stack');

/**
 * Host packages: mmdebstrap makes the base root filesystem, docker.io is the docker CLI used here
 * (its dockerd is what scripts/services/dockerd.js starts), mosquitto-clients' mosquitto_pub
 * publishes test telemetry (the self-test; tests may use it too).
 */
export const STACK_DEBIAN_PACKAGES = ['mmdebstrap', 'docker.io', 'mosquitto-clients'];

/** Bump to rebuild every image (changes every recipe hash). */
const RECIPE_FORMAT = 1;
const LABEL_RECIPE = 'dev.makerdeck.rig.recipe';
const LABEL_RIG = 'dev.makerdeck.rig';
const LABEL_ACTUAL = 'dev.makerdeck.rig.actual';
const LABEL_STAND_IN = 'dev.makerdeck.stand-in';

const BASE = 'makerdeck-rig/debian:bookworm';
const STAND_IN_BASE = 'makerdeck-rig/stand-in:bookworm';

// mmdebstrap arguments for the base (besides the output path). Part of the base's recipe hash.
const DEBIAN_SUITE = 'bookworm';
const MMDEBSTRAP_ARGS = [
  '--variant=minbase',
  '--mode=root',
  '--format=tar',
  // curl: entrypoints and health checks (`curl -fsS http://localhost:PORT/...`), like upstream images
  '--include=ca-certificates,curl',
  '--aptopt=Acquire::Languages "none"',
  '--dpkgopt=path-exclude=/usr/share/doc/*',
  '--dpkgopt=path-include=/usr/share/doc/*/copyright',
  '--dpkgopt=path-exclude=/usr/share/man/*',
  '--dpkgopt=path-exclude=/usr/share/locale/*',
];
const DEBIAN_SOURCES = [
  `deb http://deb.debian.org/debian ${DEBIAN_SUITE} main`,
  `deb http://deb.debian.org/debian ${DEBIAN_SUITE}-updates main`,
  `deb http://deb.debian.org/debian-security ${DEBIAN_SUITE}-security main`,
];
const BASE_IMPORT_CHANGES = ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["bash"]'];

/**
 * @typedef {{ module: string, version: string, packages: string[], tags: string[], ldflags: string }} GoBuild
 * @typedef {{ summary: string, from?: string, actual?: string, go?: GoBuild, ports?: Record<string, number>,
 *   health?: string[] }} SpecCommon
 * @typedef {SpecCommon & { kind: 'rootfs' | 'dockerfile', dir: string }} BuiltSpec
 * @typedef {SpecCommon & { kind: 'stand-in', service: string, version: string, ports: { http: number },
 *   health: string[] }} StandInSpec
 * @typedef {BuiltSpec | StandInSpec} ImageSpec
 * @typedef {(line: string) => void} Log
 * @typedef {import('../services/proc.js').RunResult} RunResult
 * @typedef {(args: string[], opts?: { timeoutMs?: number, input?: string }) => Promise<RunResult>} Docker
 */

/** Versions built from Go modules (on the host, CGO_ENABLED=0) and copied into their images. */
export const INFLUXDB_VERSION = '1.8.10';
export const TELEGRAF_VERSION = '1.34.4';
// outputs.health (beyond the stack's needs) gives compose a healthcheck that does not touch MQTT:
// `telegraf --once` as a healthcheck would connect with the same client_id and kick the running consumer.
export const TELEGRAF_BUILD_TAGS = [
  'custom',
  'inputs.mqtt_consumer',
  'outputs.influxdb',
  'outputs.influxdb_v2',
  'outputs.health',
  'parsers.influx',
];

/**
 * Every image ensureStackImages makes, in build order (parents first), with its recipe summary.
 * kind: 'rootfs' (mmdebstrap + docker import), 'dockerfile' (tests/rig/stack/<dir>/Dockerfile,
 * with Go binaries from `go` copied into the context) or 'stand-in' (stand-in/service.Dockerfile).
 * health: a command that works inside the container (for compose healthchecks).
 * @satisfies {Record<string, ImageSpec>}
 */
export const STACK_IMAGES = {
  [BASE]: {
    kind: 'rootfs',
    dir: 'base',
    summary: `Debian 12 (${DEBIAN_SUITE}) minbase + ca-certificates, curl: mmdebstrap | docker import (customize hook base/customize.sh)`,
  },
  'rabbitmq:4.1-management': {
    kind: 'dockerfile',
    dir: 'rabbitmq',
    from: BASE,
    actual: 'Debian bookworm rabbitmq-server 3.10 (apt) with rabbitmq_mqtt + rabbitmq_management',
    summary:
      'Debian rabbitmq-server 3.10.x, plugins mqtt+management, RABBITMQ_DEFAULT_USER/PASS/VHOST via conf.d; MQTT 3.1/3.1.1 only',
    ports: { amqp: 5672, mqtt: 1883, management: 15672 },
    // `ping` answers ~5 s before the MQTT listener is up; check_port_connectivity waits for it
    health: ['rabbitmq-diagnostics', '-q', 'check_port_connectivity'],
  },
  'influxdb:1.11': {
    kind: 'dockerfile',
    dir: 'influxdb',
    from: BASE,
    actual: `InfluxDB OSS ${INFLUXDB_VERSION} (github.com/influxdata/influxdb@v${INFLUXDB_VERSION}, CGO_ENABLED=0)`,
    summary: `real InfluxDB ${INFLUXDB_VERSION} (influxd from its Go module), flux-enabled, INFLUXDB_* init like the official image`,
    go: {
      module: 'github.com/influxdata/influxdb',
      version: INFLUXDB_VERSION,
      packages: ['cmd/influxd'],
      tags: [],
      ldflags: `-s -w -X main.version=${INFLUXDB_VERSION} -X main.branch=${INFLUXDB_VERSION.split('.').slice(0, 2).join('.')}`,
    },
    ports: { http: 8086 },
    health: ['curl', '-fsS', 'http://localhost:8086/ping'],
  },
  'telegraf:1.34': {
    kind: 'dockerfile',
    dir: 'telegraf',
    from: BASE,
    actual: `Telegraf ${TELEGRAF_VERSION} (github.com/influxdata/telegraf@v${TELEGRAF_VERSION}, tags ${TELEGRAF_BUILD_TAGS.join(',')}, CGO_ENABLED=0)`,
    summary: `real Telegraf ${TELEGRAF_VERSION}, trimmed build (${TELEGRAF_BUILD_TAGS.join(',')}); config /etc/telegraf/telegraf.conf (mount yours)`,
    go: {
      module: 'github.com/influxdata/telegraf',
      version: TELEGRAF_VERSION,
      packages: ['cmd/telegraf'],
      tags: TELEGRAF_BUILD_TAGS,
      ldflags: `-s -w -X github.com/influxdata/telegraf/internal.Version=${TELEGRAF_VERSION}`,
    },
    ports: { health: 8080 },
    // needs [[outputs.health]] service_address = "http://:8080" in the config (the image's default has it)
    health: ['curl', '-fsS', 'http://localhost:8080/'],
  },
  [STAND_IN_BASE]: {
    kind: 'dockerfile',
    dir: 'stand-in',
    from: BASE,
    summary: 'base of the stand-ins: Debian python3 + stand-in.py (a small HTTP server)',
  },
  'kapacitor:1.7': {
    kind: 'stand-in',
    from: STAND_IN_BASE,
    service: 'kapacitor',
    version: '1.7',
    summary: 'STAND-IN (not Kapacitor): 9092 GET /kapacitor/v1/ping -> 204 (X-Kapacitor-Version)',
    ports: { http: 9092 },
    health: ['curl', '-fsS', 'http://localhost:9092/kapacitor/v1/ping'],
  },
  'chronograf:1.10': {
    kind: 'stand-in',
    from: STAND_IN_BASE,
    service: 'chronograf',
    version: '1.10',
    summary: 'STAND-IN (not Chronograf): 8888 GET /ping -> 204, GET /chronograf/v1/ -> links JSON',
    ports: { http: 8888 },
    health: ['curl', '-fsS', 'http://localhost:8888/ping'],
  },
  'grafana/grafana:11.5.2': {
    kind: 'stand-in',
    from: STAND_IN_BASE,
    service: 'grafana',
    version: '11.5.2',
    summary: 'STAND-IN (not Grafana): 3000 GET /api/health -> {"database":"ok","version":"11.5.2",...}',
    ports: { http: 3000 },
    health: ['curl', '-fsS', 'http://localhost:3000/api/health'],
  },
  'portainer/portainer-ce:2.27.1': {
    kind: 'stand-in',
    from: STAND_IN_BASE,
    service: 'portainer',
    version: '2.27.1',
    summary: 'STAND-IN (not Portainer): 9000 GET /api/system/status (and /api/status) -> {"Version":"2.27.1",...}',
    ports: { http: 9000 },
    health: ['curl', '-fsS', 'http://localhost:9000/api/system/status'],
  },
};

/** @param {unknown[]} parts */
const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' || Buffer.isBuffer(p) ? p : JSON.stringify(p)).update('\0');
  return h.digest('hex');
};

/**
 * Every file under dir (sorted, relative path + exec bit + content) folded into one hash.
 * @param {string} dir
 */
function hashDir(dir) {
  const h = createHash('sha256');
  /** @param {string} rel */
  const walk = (rel) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const relName = path.posix.join(rel, name);
      const abs = path.join(dir, relName);
      const st = statSync(abs);
      if (st.isDirectory()) walk(relName);
      else
        h.update(`${relName}\0${st.mode & 0o111 ? 'x' : '-'}\0`)
          .update(readFileSync(abs))
          .update('\0');
    }
  };
  walk('');
  return h.digest('hex');
}

/** { name: recipe hash } for every image: its own recipe plus its parent's hash. */
export function stackRecipeHashes() {
  /** @type {Record<string, string>} */
  const hashes = {};
  for (const [name, spec] of /** @type {[string, ImageSpec][]} */ (Object.entries(STACK_IMAGES))) {
    const own =
      spec.kind === 'stand-in'
        ? [readFileSync(path.join(STACK_RECIPE_DIR, 'stand-in', 'service.Dockerfile')), standInBuildArgs(name, spec)]
        : [hashDir(path.join(STACK_RECIPE_DIR, spec.dir))];
    const extra =
      spec.kind === 'rootfs'
        ? { MMDEBSTRAP_ARGS, DEBIAN_SUITE, DEBIAN_SOURCES, BASE_IMPORT_CHANGES }
        : { go: spec.go ?? null, actual: spec.actual ?? null };
    hashes[name] = sha256(RECIPE_FORMAT, name, spec.kind, spec.from ? hashes[spec.from] : '', extra, ...own);
  }
  return hashes;
}

/**
 * @param {string} name
 * @param {StandInSpec} spec
 */
function standInBuildArgs(name, spec) {
  return { SERVICE: spec.service, IMAGE: name, VERSION: spec.version, PORT: String(Object.values(spec.ports)[0]) };
}

/** The docker CLI: Debian's (docker.io, same release as the dockerd we run) when installed. */
function dockerCli() {
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : requireCommand('docker', 'docker.io');
}

/**
 * @param {string} dockerHost
 * @param {string} configDir
 */
function dockerEnv(dockerHost, configDir) {
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
 * Make every STACK_IMAGES image present on the (already running) dockerd at `dockerHost`
 * ("unix:///…/docker.sock"). Fast path: images already there with the right recipe label, or a
 * `docker load` of the cached tarball (cacheDir/stack-images/images-<hash>.tar) when its recipe
 * hash matches. Otherwise builds what is missing or stale (Go binaries on the host, cached under
 * cacheDir/stack-images/bin and in Go's own GOCACHE/GOMODCACHE), then saves a new tarball.
 * `rebuild: true` ignores the tarball (and rebuilds the Go binaries too with `rebuild: 'all'`).
 * Resolves { images: { name: { id, recipe } }, loaded, built: [names], tarball, seconds, timings }.
 * @param {{ dockerHost?: string, cacheDir?: string, log?: Log, rebuild?: boolean | 'all' }} [options]
 */
export function ensureStackImages({
  dockerHost,
  cacheDir = defaultRigCache(),
  log = console.log,
  rebuild = false,
} = {}) {
  if (!dockerHost) throw new Error('ensureStackImages: dockerHost (e.g. startDockerd().host) is required');
  const key = `${dockerHost}\0${path.resolve(cacheDir)}`;
  let p = inflight.get(key);
  if (!p) {
    p = ensureImages({ dockerHost, cacheDir: path.resolve(cacheDir), log, rebuild }).finally(() =>
      inflight.delete(key),
    );
    inflight.set(key, p);
  }
  return p;
}
/** @type {Map<string, ReturnType<typeof ensureImages>>} */
const inflight = new Map();

/** @typedef {Record<string, { id: string, recipe: string | null } | undefined>} FoundImages */

/** @param {{ dockerHost: string, cacheDir: string, log: Log, rebuild: boolean | 'all' }} options */
async function ensureImages({ dockerHost, cacheDir, log, rebuild }) {
  const t0 = performance.now();
  /** @type {Record<string, number>} */
  const timings = {};
  // docker.io for the CLI; mmdebstrap is checked when the base has to be built (a load needs none)
  const missingPkgs = await missingDebianPackages(['docker.io']);
  if (missingPkgs.length) {
    throw new Error(
      `stack images: missing Debian packages: ${missingPkgs.join(' ')}; install them with ensureDebianPackages(STACK_DEBIAN_PACKAGES) ` +
        `from scripts/services/apt.js, or as root: apt-get install -y --no-install-recommends ${missingPkgs.join(' ')}`,
    );
  }
  const home = path.join(cacheDir, 'stack-images');
  const configDir = path.join(home, 'docker-config'); // no credential helpers or contexts from ~/.docker
  mkdirSync(configDir, { recursive: true });
  if (!existsSync(path.join(configDir, 'config.json'))) writeFileSync(path.join(configDir, 'config.json'), '{}\n');
  const docker = dockerCli();
  const env = dockerEnv(dockerHost, configDir);
  /** @type {Docker} */
  const dk = async (args, { timeoutMs = 600_000, input } = {}) => {
    const r = await run(docker, args, { env, timeoutMs, input });
    if (r.code !== 0)
      throw new Error(
        `docker ${args.slice(0, 3).join(' ')} … failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`,
      );
    return r;
  };

  const server = (await dk(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 30_000 })).stdout.trim();
  const want = stackRecipeHashes();
  const names = Object.keys(STACK_IMAGES);
  const setHash = sha256(RECIPE_FORMAT, want).slice(0, 16);
  const tarball = path.join(home, `images-${setHash}.tar`);

  const present = async () => {
    const r = await run(docker, ['image', 'inspect', ...names], { env, timeoutMs: 60_000 });
    /** @type {FoundImages} */
    const found = {};
    try {
      for (const img of JSON.parse(r.stdout || '[]')) {
        for (const tag of img.RepoTags ?? [])
          found[tag] = { id: img.Id, recipe: img.Config?.Labels?.[LABEL_RECIPE] ?? null };
      }
    } catch {
      // no JSON: nothing found (or the daemon is not answering: the next docker call says so)
    }
    return found;
  };
  const stale = (/** @type {FoundImages} */ found) => names.filter((n) => found[n]?.recipe !== want[n]);

  let found = await present();
  let todo = rebuild ? names : stale(found);
  /** @type {string | null} */
  let loaded = null;
  if (todo.length && !rebuild && existsSync(tarball)) {
    const tl = performance.now();
    const r = await run(docker, ['load', '-q', '-i', tarball], { env, timeoutMs: 600_000 });
    if (r.code === 0) {
      timings.load = (performance.now() - tl) / 1000;
      loaded = tarball;
      found = await present();
      todo = stale(found);
      log(
        `[stack] loaded ${path.basename(tarball)} (${(statSync(tarball).size / 2 ** 20).toFixed(0)} MiB) in ${timings.load.toFixed(1)} s`,
      );
    } else {
      log(
        `[stack] docker load ${tarball} failed (exit ${r.code}: ${r.stderr.trim().slice(-300)}); removing it and building`,
      );
      rmSync(tarball, { force: true });
    }
  }
  if (todo.length && !rebuild && !loaded) {
    // An older tarball still has the images whose recipes did not change (the base, at least).
    const [newest] = listTarballs(home).filter((f) => f !== tarball);
    if (newest) {
      const tl = performance.now();
      const r = await run(docker, ['load', '-q', '-i', newest], { env, timeoutMs: 600_000 });
      if (r.code === 0) {
        timings.loadOlder = (performance.now() - tl) / 1000;
        log(`[stack] recipes changed: loaded the previous ${path.basename(newest)} to reuse what did not change`);
        found = await present();
        todo = stale(found);
      }
    }
  }

  /** @type {string[]} */
  const built = [];
  if (todo.length) {
    // A stale parent makes all its children stale too (their hashes include it); keep build order.
    const rebuildSet = new Set(todo);
    log(`[stack] building ${names.filter((n) => rebuildSet.has(n)).join(', ')}`);
    const work = mkdtempSync(path.join(home, 'work-'));
    try {
      for (const name of names) {
        if (!rebuildSet.has(name)) continue;
        const tb = performance.now();
        const spec = /** @type {ImageSpec} */ (STACK_IMAGES[/** @type {keyof STACK_IMAGES} */ (name)]);
        await buildImage({
          name,
          spec,
          recipe: /** @type {string} */ (want[name]),
          dk,
          work,
          home,
          log,
          rebuildGo: rebuild === 'all',
        });
        timings[`build ${name}`] = (performance.now() - tb) / 1000;
        built.push(name);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    found = await present();
    const still = stale(found);
    if (still.length)
      throw new Error(
        `stack images: built, yet these lack recipe label ${LABEL_RECIPE}=<expected>: ${still.join(', ')}`,
      );
    // dangling leftovers of earlier builds of the same tags
    await run(docker, ['image', 'prune', '-f', '--filter', `label=${LABEL_RIG}=true`], { env, timeoutMs: 120_000 });

    const ts = performance.now();
    const tmp = `${tarball}.tmp-${process.pid}`;
    await dk(['save', '-o', tmp, ...names], { timeoutMs: 900_000 });
    renameSync(tmp, tarball);
    timings.save = (performance.now() - ts) / 1000;
    for (const old of listTarballs(home)) if (old !== tarball) rmSync(old, { force: true });
    const versions = await imageVersions(dk);
    writeFileSync(
      path.join(home, 'images.json'),
      `${JSON.stringify({ setHash, tarball: path.basename(tarball), bytes: statSync(tarball).size, recipes: want, versions, timings }, null, 2)}\n`,
    );
    log(
      `[stack] saved ${path.basename(tarball)} (${(statSync(tarball).size / 2 ** 20).toFixed(0)} MiB) in ${timings.save.toFixed(1)} s`,
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  const images = Object.fromEntries(names.map((n) => [n, found[n]]));
  return { images, loaded, built, tarball, seconds, timings, dockerServer: server };
}

/** @param {string} home */
function listTarballs(home) {
  try {
    return readdirSync(home)
      .filter((f) => /^images-[0-9a-f]{16}\.tar$/.test(f))
      .map((f) => path.join(home, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  } catch {
    return [];
  }
}

/** The versions inside the images (Debian packages, the Go binaries' own --version), for images.json. */
/** @param {Docker} dk */
async function imageVersions(dk) {
  /** @type {Record<string, string>} */
  const out = {};
  /** @type {(key: string, image: string, entrypoint: string, args: string[]) => Promise<void>} */
  const probe = async (key, image, entrypoint, args) => {
    try {
      out[key] = (
        await dk(['run', '--rm', '--network', 'none', '--entrypoint', entrypoint, image, ...args], {
          timeoutMs: 60_000,
        })
      ).stdout.trim();
    } catch (err) {
      out[key] = `? (${/** @type {Error} */ (err).message.split('\n')[0]})`;
    }
  };
  await probe('rabbitmq', 'rabbitmq:4.1-management', 'dpkg-query', [
    '-W',
    '-f',
    '${Package} ${Version}\n',
    'rabbitmq-server',
    'erlang-base',
  ]);
  await probe('influxdb', 'influxdb:1.11', 'influxd', ['version']);
  await probe('telegraf', 'telegraf:1.34', 'telegraf', ['--version']);
  await probe('debian', BASE, 'cat', ['/etc/debian_version']);
  return out;
}

/**
 * @param {{ name: string, spec: ImageSpec, recipe: string, dk: Docker, work: string, home: string, log: Log,
 *   rebuildGo: boolean }} options
 */
async function buildImage({ name, spec, recipe, dk, work, home, log, rebuildGo }) {
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

// ---------------------------------------------------------------------------------------------
// --self-test

/**
 * @param {typeof import('../services/dockerd.js').startDockerd} startDockerd
 * @param {Log} log
 */
async function startDockerdPolitely(startDockerd, log) {
  for (let waited = 0; ; waited += 20) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mkd-stk-'));
    try {
      return { svc: await startDockerd({ dir }), dir };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      const { message } = /** @type {Error} */ (err);
      if (!/another dockerd is already running/.test(message) || waited >= 20 * 60) throw err;
      if (waited % 60 === 0)
        log(
          `[self-test] another dockerd is running (${message.match(/pid \d+/)?.[0]}); waiting for it (poll every 20 s)`,
        );
      await sleep(20_000);
    }
  }
}

async function selfTest() {
  const log = (/** @type {unknown[]} */ ...a) => console.log(...a);
  const { ensureDebianPackages } = await import('../services/apt.js');
  const { DOCKER_PACKAGES, startDockerd } = await import('../services/dockerd.js');
  await ensureDebianPackages([...new Set([...DOCKER_PACKAGES, ...STACK_DEBIAN_PACKAGES])]);
  const rebuild = process.argv.includes('--rebuild') ? 'all' : false;
  const cacheDir = defaultRigCache();
  const { svc, dir } = await startDockerdPolitely(startDockerd, log);
  log(`[self-test] dockerd pid ${svc.pid} at ${svc.host}`);
  const configDir = path.join(cacheDir, 'stack-images', 'docker-config');
  const env = dockerEnv(svc.host, configDir);
  const docker = dockerCli();
  const dk = async (/** @type {string[]} */ ...args) => {
    const r = await run(docker, args, { env, timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (exit ${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout.trim();
  };
  const suffix = `${process.pid}`;
  /** @type {string[]} */
  const containers = [];
  /** @type {string | null} */
  let network = null;
  /** @type {string | null} */
  let confDir = null;
  try {
    // 1. ensure (cold or cached), then again from the tarball on an empty image store
    let r = await ensureStackImages({ dockerHost: svc.host, cacheDir, rebuild });
    log(
      `[self-test] ensureStackImages #1: ${r.seconds.toFixed(1)} s (${r.built.length ? `built ${r.built.length} images` : r.loaded ? 'loaded from tarball' : 'already present'})`,
    );
    log(
      `[self-test]   timings: ${JSON.stringify(Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v * 10) / 10])))}`,
    );
    const again = await ensureStackImages({ dockerHost: svc.host, cacheDir });
    log(`[self-test] ensureStackImages #2 (images present): ${again.seconds.toFixed(2)} s`);
    if (!r.loaded) {
      await dk('rmi', ...Object.keys(STACK_IMAGES));
      r = await ensureStackImages({ dockerHost: svc.host, cacheDir });
      if (!r.loaded || r.built.length) throw new Error(`expected a load from the tarball, got ${JSON.stringify(r)}`);
      log(`[self-test] ensureStackImages #3 (empty image store, cached tarball): ${r.seconds.toFixed(1)} s`);
    }
    log(`[self-test] tarball ${r.tarball}: ${(statSync(r.tarball).size / 2 ** 20).toFixed(0)} MiB`);
    const sizes = await dk('images', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}');
    log(
      sizes
        .split('\n')
        .filter((l) => Object.hasOwn(STACK_IMAGES, /** @type {string} */ (l.split(' ')[0])))
        .map((l) => `    ${l}`)
        .join('\n'),
    );

    // 2. rabbitmq + influxdb + telegraf on a user-defined network, ports on 127.0.0.1
    const net = `mkd-stack-selftest-${suffix}`;
    network = net;
    await dk('network', 'create', net);
    const name = (/** @type {string} */ s) => `mkd-selftest-${s}-${suffix}`;
    /** @type {(svcName: string, image: string, args: string[]) => Promise<string>} */
    const runC = async (svcName, image, args) => {
      const c = name(svcName);
      await dk(
        'run',
        '-d',
        '--name',
        c,
        '--hostname',
        svcName,
        '--network',
        net,
        '--network-alias',
        svcName,
        ...args,
        image,
      );
      containers.push(c);
      return c;
    };
    const mqttUser = 'maker';
    const mqttPass = 'mqtt-pass';
    const ifxUser = 'admin';
    const ifxPass = 'influx-pass';
    const tStack = performance.now();
    const rabbit = await runC('rabbitmq', 'rabbitmq:4.1-management', [
      '-e',
      `RABBITMQ_DEFAULT_USER=${mqttUser}`,
      '-e',
      `RABBITMQ_DEFAULT_PASS=${mqttPass}`,
      '-p',
      '127.0.0.1::1883',
      '-p',
      '127.0.0.1::15672',
    ]);
    const influx = await runC('influxdb', 'influxdb:1.11', [
      '-e',
      'INFLUXDB_HTTP_AUTH_ENABLED=true',
      '-e',
      `INFLUXDB_ADMIN_USER=${ifxUser}`,
      '-e',
      `INFLUXDB_ADMIN_PASSWORD=${ifxPass}`,
      '-e',
      'INFLUXDB_DB=makerdeck',
      '-p',
      '127.0.0.1::8086',
    ]);
    confDir = mkdtempSync(path.join(os.tmpdir(), 'mkd-stk-conf-'));
    const telegrafConf = path.join(confDir, 'telegraf.conf');
    writeFileSync(telegrafConf, SELF_TEST_TELEGRAF_CONF);
    const telegraf = await runC('telegraf', 'telegraf:1.34', [
      '-v',
      `${telegrafConf}:/etc/telegraf/telegraf.conf:ro`,
      '-e',
      `MQTT_USERNAME=${mqttUser}`,
      '-e',
      `MQTT_PASSWORD=${mqttPass}`,
      '-e',
      `INFLUX_USERNAME=${ifxUser}`,
      '-e',
      `INFLUX_PASSWORD=${ifxPass}`,
    ]);
    /** @type {(c: string, p: number) => Promise<number>} */
    const port = async (c, p) =>
      Number(/** @type {string} */ ((await dk('port', c, `${p}/tcp`)).split('\n')[0]).split(':').pop());
    const mqttPort = await port(rabbit, 1883);
    const mgmtPort = await port(rabbit, 15672);
    const influxPort = await port(influx, 8086);

    /** @type {(what: string, fn: () => Promise<boolean>, timeoutMs?: number) => Promise<void>} */
    const waitFor = async (what, fn, timeoutMs = 90_000) => {
      const t = performance.now();
      for (;;) {
        /** @type {Error | undefined} */
        let last;
        try {
          if (await fn()) break;
        } catch (err) {
          last = /** @type {Error} */ (err);
        }
        if (performance.now() - t > timeoutMs)
          throw new Error(
            `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${last.message}` : ''}`,
          );
        await sleep(250);
      }
      const s = (performance.now() - tStack) / 1000;
      log(`[self-test] ${what}: ${s.toFixed(1)} s after the first docker run`);
    };
    /** @type {(url: string, init?: RequestInit) => Promise<number>} */
    const httpStatus = async (url, init) => (await fetch(url, { ...init, signal: AbortSignal.timeout(3000) })).status;
    await waitFor(
      'influxdb GET /ping 204',
      async () => (await httpStatus(`http://127.0.0.1:${influxPort}/ping`)) === 204,
    );
    const health = /** @type {{ status: string }} */ (
      await (await fetch(`http://127.0.0.1:${influxPort}/health`)).json()
    );
    if (health.status !== 'pass') throw new Error(`influxdb /health: ${JSON.stringify(health)}`);
    await waitFor(
      'rabbitmq ping (rabbitmq-diagnostics -q ping)',
      async () =>
        (await run(docker, ['exec', rabbit, 'rabbitmq-diagnostics', '-q', 'ping'], { env, timeoutMs: 30_000 })).code ===
        0,
    );
    await waitFor(
      `rabbitmq healthy (${STACK_IMAGES['rabbitmq:4.1-management'].health.join(' ')})`,
      async () =>
        (
          await run(docker, ['exec', rabbit, ...STACK_IMAGES['rabbitmq:4.1-management'].health], {
            env,
            timeoutMs: 30_000,
          })
        ).code === 0,
    );
    const auth = `Basic ${Buffer.from(`${mqttUser}:${mqttPass}`).toString('base64')}`;
    const overview = /** @type {{ product_name: string, rabbitmq_version: string, erlang_version: string }} */ (
      await (await fetch(`http://127.0.0.1:${mgmtPort}/api/overview`, { headers: { authorization: auth } })).json()
    );
    log(
      `[self-test] rabbitmq management API: ${overview.product_name} ${overview.rabbitmq_version}, erlang ${overview.erlang_version}`,
    );
    const logsOf = async (/** @type {string} */ c) => {
      const l = await run(docker, ['logs', c], { env, timeoutMs: 30_000 });
      return l.stdout + l.stderr;
    };
    await waitFor('telegraf connected to MQTT', async () =>
      /Connected \[tcp:\/\/rabbitmq:1883\]/.test(await logsOf(telegraf)),
    );
    // the subscription follows the CONNACK; wait until RabbitMQ has the consumer's queue bound
    await waitFor('telegraf subscribed (mqtt-subscription queue)', async () =>
      /mqtt-subscription-makerdeck-telegraf/.test(
        (await run(docker, ['exec', rabbit, 'rabbitmqctl', '-q', 'list_queues', 'name'], { env, timeoutMs: 30_000 }))
          .stdout,
      ),
    );

    // 3. one line over MQTT 3.1.1 -> telegraf -> influxdb
    const line = 'telemetry,device=rig-test temp_c=21.5';
    const tgHealth = await run(docker, ['exec', telegraf, ...STACK_IMAGES['telegraf:1.34'].health], {
      env,
      timeoutMs: 30_000,
    });
    if (tgHealth.code !== 0)
      throw new Error(`telegraf health (${STACK_IMAGES['telegraf:1.34'].health.join(' ')}) failed: ${tgHealth.stderr}`);
    log(`[self-test] telegraf healthy (${STACK_IMAGES['telegraf:1.34'].health.join(' ')} -> exit 0)`);
    const pub = await run(
      'mosquitto_pub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(mqttPort),
        '-V',
        'mqttv311',
        '-q',
        '1',
        '-u',
        mqttUser,
        '-P',
        mqttPass,
        '-i',
        `mkd-selftest-${suffix}`,
        '-t',
        'makerdeck/rig-test/telemetry',
        '-m',
        line,
      ],
      { timeoutMs: 30_000 },
    );
    if (pub.code !== 0) throw new Error(`mosquitto_pub failed: ${pub.stderr}`);
    const tPub = performance.now();
    const basic = `Basic ${Buffer.from(`${ifxUser}:${ifxPass}`).toString('base64')}`;
    /** @typedef {{ columns: string[], values: unknown[][] }} Series */
    /** @type {Series | undefined} */
    let series;
    for (;;) {
      const q = new URLSearchParams({
        db: 'makerdeck',
        q: `SELECT temp_c, device, topic FROM telemetry WHERE device = 'rig-test'`,
      });
      const body = /** @type {{ results?: { series?: Series[] }[] }} */ (
        await (await fetch(`http://127.0.0.1:${influxPort}/query?${q}`, { headers: { authorization: basic } })).json()
      );
      series = body.results?.[0]?.series?.[0];
      if (series) break;
      if (performance.now() - tPub > 30_000)
        throw new Error(
          `the point never reached InfluxDB (last answer ${JSON.stringify(body)}); telegraf logs:\n${(await run(docker, ['logs', '--tail', '30', telegraf], { env })).stderr}`,
        );
      await sleep(200);
    }
    const { columns, values } = series;
    const row = Object.fromEntries(columns.map((c, i) => [c, values[0]?.[i]]));
    if (row.temp_c !== 21.5 || row.device !== 'rig-test' || series.values.length !== 1)
      throw new Error(`unexpected InfluxQL answer: ${JSON.stringify(series)}`);
    log(
      `[self-test] InfluxQL: ${JSON.stringify(row)} (${((performance.now() - tPub) / 1000).toFixed(2)} s after publishing)`,
    );
    const flux =
      'from(bucket: "makerdeck/autogen") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "telemetry" and r.device == "rig-test")';
    const v2 = await fetch(`http://127.0.0.1:${influxPort}/api/v2/query`, {
      method: 'POST',
      headers: {
        authorization: `Token ${ifxUser}:${ifxPass}`,
        'content-type': 'application/vnd.flux',
        accept: 'application/csv',
      },
      body: flux,
    });
    const csv = await v2.text();
    const rows = csv
      .trim()
      .split(/\r?\n/)
      .filter((l) => l && !l.startsWith('#'));
    const header = rows[0]?.split(',') ?? [];
    const data = rows.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
    if (v2.status !== 200 || data.length !== 1 || data[0]._value !== '21.5' || data[0]._field !== 'temp_c')
      throw new Error(`unexpected /api/v2/query answer (${v2.status}):\n${csv}`);
    log(
      `[self-test] Flux via /api/v2/query: _value=${data[0]._value} _field=${data[0]._field} device=${data[0].device}`,
    );
    const denied = await httpStatus(
      `http://127.0.0.1:${influxPort}/query?${new URLSearchParams({ q: 'SHOW DATABASES' })}`,
    );
    if (denied !== 401) throw new Error(`influxdb without credentials answered ${denied}, expected 401`);
    const v5 = await run(
      'mosquitto_pub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(mqttPort),
        '-V',
        'mqttv5',
        '-u',
        mqttUser,
        '-P',
        mqttPass,
        '-t',
        'makerdeck/v5/telemetry',
        '-m',
        'x',
      ],
      { timeoutMs: 30_000 },
    );
    log(
      `[self-test] MQTT 5 publish (expected to fail on RabbitMQ 3.10): exit ${v5.code} ${(v5.stderr || v5.stdout).trim().split('\n')[0]}`,
    );

    // 4. the stand-ins: banner, label, health endpoint
    const standIns = /** @type {[string, StandInSpec][]} */ (
      Object.entries(STACK_IMAGES).filter(([, s]) => s.kind === 'stand-in')
    );
    for (const [image, spec] of standIns) {
      const c = await runC(spec.service, image, ['-p', `127.0.0.1::${spec.ports.http}`]);
      const p = await port(c, spec.ports.http);
      const url = `http://127.0.0.1:${p}${/** @type {string} */ (spec.health[2]).replace(/^http:\/\/localhost:\d+/, '')}`;
      let status = 0;
      let body = '';
      const t = performance.now();
      while (performance.now() - t < 15_000) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
          status = res.status;
          body = await res.text();
          break;
        } catch {
          await sleep(100);
        }
      }
      const inContainer = (await run(docker, ['exec', c, ...spec.health], { env, timeoutMs: 30_000 })).code;
      const labels = JSON.parse(await dk('image', 'inspect', '-f', '{{json .Config.Labels}}', image));
      const banner = await dk('logs', c);
      if (
        status < 200 ||
        status > 299 ||
        inContainer !== 0 ||
        labels[LABEL_STAND_IN] !== 'true' ||
        !/stand-in/.test(banner)
      ) {
        throw new Error(
          `stand-in ${image}: status ${status}, in-container health exit ${inContainer}, labels ${JSON.stringify(labels)}, log ${banner}`,
        );
      }
      log(`[self-test] ${image}: GET ${new URL(url).pathname} -> ${status} ${body.slice(0, 80)}`);
    }
  } finally {
    for (const c of containers) await run(docker, ['rm', '-f', '-v', c], { env }).catch(() => {});
    if (network) await run(docker, ['network', 'rm', network], { env }).catch(() => {});
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
    if (confDir) rmSync(confDir, { recursive: true, force: true });
  }
  log('stack images self-test OK');
}

// What a compose file would mount as stack/telegraf/telegraf.conf (secrets from the environment).
const SELF_TEST_TELEGRAF_CONF = `[agent]
  interval = "10s"
  flush_interval = "1s"
  omit_hostname = true
  skip_processors_after_aggregators = true

[[inputs.mqtt_consumer]]
  servers = ["tcp://rabbitmq:1883"]
  topics = ["makerdeck/+/telemetry"]
  qos = 1
  client_id = "makerdeck-telegraf"
  username = "\${MQTT_USERNAME}"
  password = "\${MQTT_PASSWORD}"
  data_format = "influx"
  topic_tag = "topic"
  startup_error_behavior = "retry"
  interval = "2s"

[[outputs.influxdb]]
  urls = ["http://influxdb:8086"]
  database = "makerdeck"
  skip_database_creation = true
  username = "\${INFLUX_USERNAME}"
  password = "\${INFLUX_PASSWORD}"

[[outputs.health]]
  service_address = "http://:8080"
  namedrop = ["*"]
`;

if (isMain(import.meta.url) && process.argv.includes('--self-test')) {
  await selfTest();
}
