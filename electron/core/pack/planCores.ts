// Board cores for a pack, taken from what arduino-cli has installed: the board-manager index the
// platform came from (pruned to the carried version and its tools for this OS) and the archives
// arduino-cli downloaded. A missing archive is fetched with `arduino-cli core download` when the
// pack is written (online, or from a loopback/file index), so a pack can also be made on a fresh machine.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { verifyArchive } from '../boards/offlineFolder';
import { fileExists } from '../pathExists';
import type { PackCli } from './packCli';
import type { PlannedPart } from './plannedPart';

interface Resource {
  archiveFileName: string;
  checksum: string;
  size: string | number;
  host?: string;
}
interface Platform extends Resource {
  architecture: string;
  version: string;
  name?: string;
  toolsDependencies?: Array<{ packager: string; name: string; version: string }>;
}
interface Tool {
  name: string;
  version: string;
  systems: Resource[];
}
interface Package {
  name: string;
  platforms?: Platform[];
  tools?: Tool[];
  [key: string]: unknown;
}
interface Index {
  packages: Package[];
}

/** arduino-cli host names (package index `systems[].host`) that run on a Node platform-arch. */
const HOSTS: Record<string, RegExp[]> = {
  'linux-x64': [/^x86_64-.*linux-gnu$/],
  'linux-arm64': [/^aarch64-.*linux-gnu$/],
  'darwin-arm64': [/^arm64-apple-darwin/, /^x86_64-apple-darwin/],
  'darwin-x64': [/^(x86_64|i[3-6]86)-apple-darwin/],
  'win32-x64': [/^x86_64-mingw32$/, /^i[3-6]86-mingw32$/],
};

/** The systems of a tool this machine can run: the first host pattern that matches any, all its matches. */
export function systemsFor(systems: Resource[], target = `${process.platform}-${process.arch}`): Resource[] {
  for (const pattern of HOSTS[target] ?? []) {
    const found = systems.filter((s) => s.host && pattern.test(s.host));
    if (found.length) return found;
  }
  return [];
}

/** Plans one part per installed core asked for; a core not installed is a problem with the fix. */
export async function planCores(cli: PackCli, cores: string[], problems: string[]): Promise<PlannedPart[]> {
  if (cores.length === 0) return [];
  const installed = await cli.installedCores();
  const data = await cli.directory('data');
  const downloads = path.join(await cli.directory('downloads'), 'packages');
  const indexes = await readIndexes(data);
  const parts: PlannedPart[] = [];
  const pruned = new Map<string, Index>(); // index file name → pruned index, shared by a packager's cores
  for (const core of cores) {
    const version = installed.get(core);
    if (!version) {
      problems.push(`${core} is not installed: install it first (makerdeck boards install ${core})`);
      continue;
    }
    const part = await planCore({ core, version, indexes, downloads, data, pruned }, problems);
    if (part) parts.push(part);
  }
  return parts;
}

interface CoreContext {
  core: string;
  version: string;
  indexes: Array<{ file: string; index: Index }>;
  downloads: string;
  data: string;
  pruned: Map<string, Index>;
}

async function planCore(ctx: CoreContext, problems: string[]): Promise<PlannedPart | undefined> {
  const [packager, arch] = ctx.core.split(':') as [string, string];
  const found = findPlatform(ctx.indexes, packager, arch, ctx.version);
  if (!found) {
    problems.push(
      `${ctx.core}@${ctx.version} is in no board index arduino-cli keeps: update the indexes (makerdeck boards index)`,
    );
    return undefined;
  }
  const { platform, pkg } = found;
  const tools: Array<{ packager: string; tool: Tool; systems: Resource[] }> = [];
  for (const dep of platform.toolsDependencies ?? []) {
    const tool = findTool(ctx.indexes, dep.packager, dep.name, dep.version);
    const systems = tool ? systemsFor(tool.systems) : [];
    if (!tool || systems.length === 0) {
      problems.push(
        `${ctx.core} needs ${dep.packager}:${dep.name}@${dep.version}, which no index offers for this computer: update the indexes`,
      );
      return undefined;
    }
    tools.push({ packager: dep.packager, tool: { ...tool, systems }, systems });
  }
  const indexName = `package_${packager}_index.json`;
  const firstOfPackager = !ctx.pruned.has(indexName);
  const index = ctx.pruned.get(indexName) ?? { packages: [] };
  ctx.pruned.set(indexName, index);
  addPlatform(index, pkg, platform);
  for (const t of tools) addTool(index, ctx.indexes, t.packager, t.tool);

  const archives = uniqueArchives([platform, ...tools.map((t) => t.systems[0]!)]);
  const members: PlannedPart['members'] = archives.map((archive) => ({
    path: `boards/${archive.archiveFileName}`,
    bytes: Number(archive.size),
    source: async ({ signal, cli }) => {
      const file = path.join(ctx.downloads, archive.archiveFileName);
      if (!(await fileExists(file))) await cli.downloadCore(`${ctx.core}@${ctx.version}`, signal);
      const offline = { name: archive.archiveFileName, file, size: Number(archive.size), checksum: archive.checksum };
      await verifyArchive(offline, signal);
      return { path: `boards/${archive.archiveFileName}`, file };
    },
  }));
  if (firstOfPackager) {
    // Built when written, so it holds every core of this packager the pack carries.
    const text = () => JSON.stringify(index, null, 2);
    members.unshift({
      path: `boards/${indexName}`,
      bytes: Buffer.byteLength(text()),
      source: async () => ({ path: `boards/${indexName}`, text: text() }),
    });
  }
  const installedBytes = await installedSize(ctx.data, packager, arch, ctx.version, tools);
  return {
    id: `core/${ctx.core}`,
    kind: 'core',
    title: platform.name ?? ctx.core,
    version: ctx.version,
    installedBytes,
    members,
  };
}

async function readIndexes(data: string): Promise<Array<{ file: string; index: Index }>> {
  const files: string[] = [];
  for (const dir of [data, path.join(data, 'makerdeck-indexes')]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    files.push(...names.filter((n) => /^package_([\w.-]+_)?index\.json$/.test(n)).map((n) => path.join(dir, n)));
  }
  const indexes = [];
  for (const file of files) {
    try {
      const index = JSON.parse(await readFile(file, 'utf8')) as Index;
      if (Array.isArray(index?.packages)) indexes.push({ file, index });
    } catch {
      // A damaged index offers nothing; the core it should have offered is reported as not found.
    }
  }
  return indexes;
}

function findPlatform(indexes: Array<{ index: Index }>, packager: string, arch: string, version: string) {
  for (const { index } of indexes)
    for (const pkg of index.packages.filter((p) => p.name === packager)) {
      const platform = (pkg.platforms ?? []).find((p) => p.architecture === arch && p.version === version);
      if (platform) return { pkg, platform };
    }
  return undefined;
}

function findTool(indexes: Array<{ index: Index }>, packager: string, name: string, version: string) {
  for (const { index } of indexes)
    for (const pkg of index.packages.filter((p) => p.name === packager)) {
      const tool = (pkg.tools ?? []).find((t) => t.name === name && t.version === version);
      if (tool) return tool;
    }
  return undefined;
}

/** The package's entry in the pruned index (its fields but no platforms or tools yet). */
function entryFor(index: Index, name: string, from?: Package): Package {
  let entry = index.packages.find((p) => p.name === name);
  if (!entry) {
    entry = { ...(from ?? { name }), name, platforms: [], tools: [] };
    index.packages.push(entry);
  }
  return entry;
}

function addPlatform(index: Index, pkg: Package, platform: Platform): void {
  const entry = entryFor(index, pkg.name, pkg);
  if (!entry.platforms!.some((p) => p.architecture === platform.architecture)) entry.platforms!.push(platform);
}

function addTool(index: Index, indexes: Array<{ index: Index }>, packager: string, tool: Tool): void {
  const from = indexes.flatMap(({ index: i }) => i.packages).find((p) => p.name === packager);
  const entry = entryFor(index, packager, from);
  if (!entry.tools!.some((t) => t.name === tool.name && t.version === tool.version)) entry.tools!.push(tool);
}

function uniqueArchives(resources: Resource[]): Resource[] {
  const seen = new Set<string>();
  return resources.filter((r) => !seen.has(r.archiveFileName) && seen.add(r.archiveFileName));
}

/** The installed platform and tool folders' size: what an import unpacks them to. */
async function installedSize(
  data: string,
  packager: string,
  arch: string,
  version: string,
  tools: Array<{ packager: string; tool: Tool }>,
): Promise<number | undefined> {
  const root = path.join(data, 'packages');
  const dirs = [
    path.join(root, packager, 'hardware', arch, version),
    ...tools.map((t) => path.join(root, t.packager, 'tools', t.tool.name, t.tool.version)),
  ];
  let total = 0;
  for (const dir of dirs) total += await folderSize(dir);
  return total || undefined;
}

/** Bytes of the regular files under a folder (links not followed); 0 when it is missing. */
export async function folderSize(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await folderSize(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}
