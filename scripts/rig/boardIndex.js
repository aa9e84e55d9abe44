// Test rig: a board-manager package built from Debian's AVR platform and toolchain, for installing a
// core the way arduino-cli does it from the internet, but from loopback or a folder. The package is
// `makerdeckavr` (platform `makerdeckavr:avr`, boards such as `makerdeckavr:avr:uno`) with two tools:
// `avr-gcc` (gcc-avr + binutils-avr + avr-libc, laid out as /usr is, so gcc finds its parts by
// relative path) and `ctags` (arduino-ctags). The archives are built once per content (the Debian
// package versions) under the rig cache; the index is written for whatever base URL serves them.
//
//   import { ensureBoardPackage, writeBoardIndex } from './scripts/rig/boardIndex.js';
//   const pack = await ensureBoardPackage();               // { dir, archives, ... }
//   writeBoardIndex(pack, 'http://127.0.0.1:8080', file);   // package_makerdeckavr_index.json
//
// Self-check: node scripts/rig/boardIndex.js --self-test
import { createHash } from 'node:crypto';
import {
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { missingDebianPackages } from '../services/apt.js';
import { isMain, run } from '../services/proc.js';
import { defaultRigCache } from './common.js';

export const PACKAGER = 'makerdeckavr';
export const PLATFORM_VERSION = '1.8.7';
export const INDEX_FILE_NAME = `package_${PACKAGER}_index.json`;
/** Debian packages the archives are made of. */
export const BOARD_INDEX_DEBIAN_PACKAGES = ['arduino-core-avr', 'gcc-avr', 'binutils-avr', 'avr-libc', 'arduino-ctags'];
// Bump when the archive layout changes, so caches are rebuilt.
const LAYOUT_VERSION = 1;
const DEBIAN_AVR_PLATFORM = '/usr/share/arduino/hardware/arduino/avr';
const HOSTS = ['x86_64-linux-gnu', 'x86_64-pc-linux-gnu'];

// The platform's own settings for an installed core: the compiler and ctags come from its tools.
// Debian's avr-libc 2.0 / gcc-avr 5.4 lack DECIMAL_DIG for C++ (the core's WString.cpp uses it).
const PLATFORM_LOCAL_TXT = `# Makerdeck test package (scripts/rig/boardIndex.js): tools from this package, not /usr/bin.
compiler.path={runtime.tools.avr-gcc.path}/bin/
compiler.cpp.extra_flags=-DDECIMAL_DIG=__DECIMAL_DIG__
tools.ctags.path={runtime.tools.ctags.path}
tools.ctags.cmd.path={path}/ctags
`;

/**
 * @typedef {{ name: string, file: string, size: number, sha256: string }} BoardArchive
 * @typedef {{ dir: string, key: string, versions: Record<string, string>, core: BoardArchive,
 *   toolchain: BoardArchive, ctags: BoardArchive, built: boolean, seconds: number }} BoardPackage
 */

/** @param {string} file */
async function sha256File(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

async function debianVersions() {
  const missing = await missingDebianPackages(BOARD_INDEX_DEBIAN_PACKAGES);
  if (missing.length)
    throw new Error(
      `board index: missing Debian packages ${missing.join(' ')}: apt-get install -y ${missing.join(' ')}`,
    );
  /** @type {Record<string, string>} */
  const versions = {};
  for (const pkg of BOARD_INDEX_DEBIAN_PACKAGES) {
    const r = await run('dpkg-query', ['-W', '-f', '${Version}', pkg]);
    versions[pkg] = r.stdout.trim();
  }
  return versions;
}

/**
 * A reproducible .tar.gz of `entries` (relative to `cwd`), with every path prefixed by `prefix/`.
 * @param {string} cwd
 * @param {string[]} entries
 * @param {string} prefix
 * @param {string} out
 */
async function tarGz(cwd, entries, prefix, out) {
  const tar = await run(
    'tar',
    [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--dereference',
      `--transform=s,^,${prefix}/,`,
      '-cf',
      `${out}.tar`,
      '-C',
      cwd,
      ...entries,
    ],
    { timeoutMs: 300_000 },
  );
  if (tar.code !== 0) throw new Error(`tar failed for ${out}: ${tar.stderr}`);
  const gz = await run('gzip', ['-n', '-6', '-f', `${out}.tar`], { timeoutMs: 300_000 });
  if (gz.code !== 0) throw new Error(`gzip failed for ${out}: ${gz.stderr}`);
  renameSync(`${out}.tar.gz`, out);
}

/**
 * @param {string} work
 * @param {string} outDir
 */
async function buildArchives(work, outDir) {
  // The core: Debian's platform (symlinks resolved) plus platform.local.txt.
  const core = path.join(work, 'core');
  cpSync(DEBIAN_AVR_PLATFORM, core, { recursive: true, dereference: true });
  writeFileSync(path.join(core, 'platform.local.txt'), PLATFORM_LOCAL_TXT);
  await tarGz(core, ['.'], 'avr', path.join(outDir, `${PACKAGER}-avr-${PLATFORM_VERSION}.tar.gz`));
  // The toolchain, /usr-relative: bin/avr-*, lib/gcc/avr (cc1plus, libgcc), lib/avr (as, ld, avr-libc).
  const bins = readdirSync('/usr/bin').filter((name) => name.startsWith('avr-') && name !== 'avr-man');
  const usr = path.join(work, 'usr');
  mkdirSync(path.join(usr, 'bin'), { recursive: true });
  for (const name of bins) cpSync(path.join('/usr/bin', name), path.join(usr, 'bin', name), { dereference: true });
  mkdirSync(path.join(usr, 'lib', 'gcc'), { recursive: true });
  cpSync('/usr/lib/gcc/avr', path.join(usr, 'lib', 'gcc', 'avr'), { recursive: true, dereference: true });
  cpSync('/usr/lib/avr', path.join(usr, 'lib', 'avr'), { recursive: true, dereference: true });
  await tarGz(usr, ['bin', 'lib'], 'avr-gcc', path.join(outDir, 'avr-gcc-5.4.0-x86_64-linux-gnu.tar.gz'));
  const ctags = path.join(work, 'ctags');
  mkdirSync(ctags);
  cpSync('/usr/bin/arduino-ctags', path.join(ctags, 'ctags'), { dereference: true });
  await tarGz(ctags, ['ctags'], 'ctags', path.join(outDir, 'ctags-5.8.0-arduino11-x86_64-linux-gnu.tar.gz'));
}

/** @param {string} outDir @param {string} name */
async function describe(outDir, name) {
  const file = path.join(outDir, name);
  return { name, file, size: statSync(file).size, sha256: await sha256File(file) };
}

/**
 * Build the package's archives under the rig cache unless archives of the same content are there.
 * @param {{ cacheDir?: string, log?: (line: string) => void }} [options]
 * @returns {Promise<BoardPackage>}
 */
export async function ensureBoardPackage({ cacheDir = defaultRigCache(), log = console.log } = {}) {
  const versions = await debianVersions();
  const key = createHash('sha256')
    .update(JSON.stringify({ LAYOUT_VERSION, PLATFORM_LOCAL_TXT, versions }))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(path.resolve(cacheDir), `board-index-${key}`);
  const stampFile = path.join(dir, 'archives.json');
  let built = false;
  let seconds = 0;
  if (!existsSync(stampFile)) {
    const t0 = performance.now();
    log(`[rig] building the ${PACKAGER} board package from Debian's AVR core and toolchain (once per cache)`);
    mkdirSync(path.dirname(dir), { recursive: true });
    const work = mkdtempSync(`${dir}.work-`);
    const outDir = path.join(work, 'out');
    mkdirSync(outDir);
    try {
      await buildArchives(work, outDir);
      writeFileSync(path.join(outDir, 'archives.json'), `${JSON.stringify({ versions }, null, 2)}\n`);
      try {
        renameSync(outDir, dir);
      } catch (error) {
        if (!existsSync(stampFile)) throw error; // another process won the race: keep theirs
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    seconds = (performance.now() - t0) / 1000;
    built = true;
    log(`[rig] board package built in ${seconds.toFixed(1)} s: ${dir}`);
  }
  const [core, toolchain, ctags] = await Promise.all([
    describe(dir, `${PACKAGER}-avr-${PLATFORM_VERSION}.tar.gz`),
    describe(dir, 'avr-gcc-5.4.0-x86_64-linux-gnu.tar.gz'),
    describe(dir, 'ctags-5.8.0-arduino11-x86_64-linux-gnu.tar.gz'),
  ]);
  return { dir, key, versions, core, toolchain, ctags, built, seconds };
}

/**
 * @param {BoardArchive} archive
 * @param {string} baseUrl
 */
function resource(archive, baseUrl) {
  return {
    url: `${baseUrl.replace(/\/$/, '')}/${archive.name}`,
    archiveFileName: archive.name,
    checksum: `SHA-256:${archive.sha256}`,
    size: String(archive.size),
  };
}

/**
 * The package index (arduino-cli's package_index.json format) for archives served under `baseUrl`.
 * `tamper` corrupts one archive's checksum, for testing that arduino-cli refuses it.
 * @param {BoardPackage} pack
 * @param {string} baseUrl
 * @param {{ tamper?: 'core' | 'toolchain' }} [options]
 */
export function boardIndex(pack, baseUrl, { tamper } = {}) {
  const bad = (/** @type {ReturnType<typeof resource>} */ r) => ({ ...r, checksum: `SHA-256:${'0'.repeat(64)}` });
  const core = resource(pack.core, baseUrl);
  const toolchain = resource(pack.toolchain, baseUrl);
  const tool = (
    /** @type {string} */ name,
    /** @type {string} */ version,
    /** @type {ReturnType<typeof resource>} */ r,
  ) => ({
    name,
    version,
    systems: HOSTS.map((host) => ({ host, ...r })),
  });
  return {
    packages: [
      {
        name: PACKAGER,
        maintainer: 'Makerdeck test rig',
        websiteURL: 'https://example.invalid/makerdeck',
        email: 'rig@example.invalid',
        help: { online: 'https://example.invalid/makerdeck' },
        platforms: [
          {
            name: 'Makerdeck AVR (Debian)',
            architecture: 'avr',
            version: PLATFORM_VERSION,
            category: 'Arduino',
            ...(tamper === 'core' ? bad(core) : core),
            help: { online: 'https://example.invalid/makerdeck' },
            boards: [{ name: 'Arduino Uno' }, { name: 'Arduino Nano' }],
            toolsDependencies: [
              { packager: PACKAGER, name: 'avr-gcc', version: '5.4.0' },
              { packager: PACKAGER, name: 'ctags', version: '5.8.0-arduino11' },
            ],
            discoveryDependencies: [],
            monitorDependencies: [],
          },
        ],
        tools: [
          tool('avr-gcc', '5.4.0', tamper === 'toolchain' ? bad(toolchain) : toolchain),
          tool('ctags', '5.8.0-arduino11', resource(pack.ctags, baseUrl)),
        ],
      },
    ],
  };
}

/**
 * Write the index to `file` (atomically) and return its path.
 * @param {BoardPackage} pack
 * @param {string} baseUrl
 * @param {string} file
 * @param {{ tamper?: 'core' | 'toolchain' }} [options]
 */
export function writeBoardIndex(pack, baseUrl, file, options) {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(boardIndex(pack, baseUrl, options), null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}

/**
 * An offline folder as a lab would carry it: the index plus the archives it names.
 * @param {BoardPackage} pack
 * @param {string} folder
 */
export function writeOfflineFolder(pack, folder) {
  mkdirSync(folder, { recursive: true });
  for (const archive of [pack.core, pack.toolchain, pack.ctags]) cpSync(archive.file, path.join(folder, archive.name));
  return writeBoardIndex(pack, 'https://offline.invalid/makerdeckavr', path.join(folder, INDEX_FILE_NAME));
}

if (isMain(import.meta.url) && process.argv.includes('--self-test')) {
  const pack = await ensureBoardPackage();
  const sizes = [pack.core, pack.toolchain, pack.ctags].map((a) => `${a.name} ${(a.size / 1e6).toFixed(1)} MB`);
  console.log(`board package ${pack.key}${pack.built ? ` built in ${pack.seconds.toFixed(1)} s` : ' cached'}:`);
  console.log(sizes.join('\n'));
}
