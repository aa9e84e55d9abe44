// Test rig: makes every stack image present on a dockerd — already there, a `docker load` of the
// cached tarball, or built (build.js) and saved as a new tarball.
//
//   import { STACK_DEBIAN_PACKAGES } from './scripts/rig/stackImages/recipes.js';
//   import { ensureStackImages } from './scripts/rig/stackImages/cache.js';
//   await ensureDebianPackages(STACK_DEBIAN_PACKAGES);         // scripts/services/apt.js
//   const svc = await startDockerd({ dir });                   // scripts/services/dockerd.js
//   await ensureStackImages({ dockerHost: svc.host });         // ~5 s from the cached tarball
//
// The first run for a recipe builds everything (needs Debian's mirror, the Go module proxy and Go)
// and `docker save`s the images into one tarball in the cache; later runs, on any fresh dockerd,
// just `docker load` it. Self-check: node scripts/rig/stackImages/selfTest.js [--rebuild]
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { missingDebianPackages } from '../../services/apt.js';
import { run } from '../../services/proc.js';
import { defaultRigCache } from '../common.js';
import { buildImage, dockerCli, dockerEnv } from './build.js';
import { BASE, LABEL_RECIPE, LABEL_RIG, RECIPE_FORMAT, STACK_IMAGES, sha256, stackRecipeHashes } from './recipes.js';

/**
 * @typedef {import('./recipes.js').ImageSpec} ImageSpec
 * @typedef {import('./recipes.js').GoBuild} GoBuild
 * @typedef {import('./recipes.js').Log} Log
 * @typedef {import('./recipes.js').Docker} Docker
 */

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
