// Who owns a build in progress. A compile works in a private sketch copy and a build path per board,
// both cleaned when it ends. A compile killed outright (SIGKILL, a crash, power loss) leaves them
// behind with an arduino-cli still writing objects, so each carries an owner file naming the
// Makerdeck process and its arduino-cli; the next compile removes the leftovers of every build whose
// owner is gone (and ends an arduino-cli orphaned by it, which would race with the new build).
import { readFileSync } from 'node:fs';
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const OWNER_FILE = '.makerdeck-owner.json';
/** How long an orphaned arduino-cli gets to die after SIGKILL before its leftovers are left for next time. */
const KILL_WAIT_MS = 5000;

interface ProcessRef {
  pid: number;
  /** Start time in clock ticks since boot (Linux /proc/<pid>/stat), so a reused PID is not mistaken for it. */
  start?: string;
}

interface Owner {
  makerdeck: ProcessRef;
  arduinoCli?: ProcessRef;
}

/** Marks build folders as being built by this process (before the sketch is copied in). */
export async function claimBuild(dirs: string[]): Promise<void> {
  const owner = { makerdeck: processRef(process.pid)! };
  for (const dir of dirs) await writeOwner(dir, owner);
}

/** Records the arduino-cli working for this build, so a leftover orphan can be ended. */
export async function recordArduinoCli(dirs: string[], pid: number | undefined): Promise<void> {
  const child = pid === undefined ? undefined : processRef(pid);
  const owner = { makerdeck: processRef(process.pid)!, ...(child ? { arduinoCli: child } : {}) };
  for (const dir of dirs) await writeOwner(dir, owner);
}

/** The build ended normally: its owner file goes. */
export async function releaseBuild(dir: string): Promise<void> {
  await rm(path.join(dir, OWNER_FILE), { force: true });
}

/**
 * Removes what killed compiles left: every private sketch copy (`build-*` under `privateRoot`, of
 * any data folder) whose owner is gone, and (via `clean`) every build path under `buildCacheDir`
 * whose owner is gone. Returns the folders cleaned.
 */
export async function removeStaleBuilds(
  privateRoot: string,
  buildCacheDir: string,
  clean: (buildPath: string) => Promise<void>,
): Promise<string[]> {
  const removed: string[] = [];
  for (const key of await readdir(buildCacheDir).catch(() => [] as string[])) {
    const buildPath = path.join(buildCacheDir, key);
    const owner = await readOwner(buildPath);
    if (!owner || !(await ownerGone(owner))) continue;
    await clean(buildPath);
    await releaseBuild(buildPath);
    removed.push(buildPath);
  }
  for (const name of await readdir(privateRoot).catch(() => [] as string[])) {
    const workDir = path.join(privateRoot, name);
    if (!name.startsWith('build-')) continue;
    const owner = await readOwner(workDir);
    // Without an owner file: an older Makerdeck's leftover, or one being set up this very moment.
    if (owner ? !(await ownerGone(owner)) : await recent(workDir)) continue;
    await rm(workDir, { recursive: true, force: true });
    removed.push(workDir);
  }
  return removed;
}

/** Whether the build's Makerdeck is gone, ending an arduino-cli it left (which would go on writing). */
async function ownerGone(owner: Owner): Promise<boolean> {
  if (alive(owner.makerdeck)) return false;
  return !owner.arduinoCli || !alive(owner.arduinoCli) || end(owner.arduinoCli);
}

async function recent(dir: string): Promise<boolean> {
  const info = await stat(dir).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs < 60_000;
}

async function writeOwner(buildPath: string, owner: Owner): Promise<void> {
  await writeFile(path.join(buildPath, OWNER_FILE), JSON.stringify(owner), { mode: 0o600 });
}

async function readOwner(buildPath: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path.join(buildPath, OWNER_FILE), 'utf8')) as Owner;
    return Number.isInteger(owner?.makerdeck?.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

function processRef(pid: number): ProcessRef | undefined {
  if (process.platform !== 'linux') return { pid };
  const start = statFields(pid)?.[19];
  return start === undefined ? undefined : { pid, start };
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function alive(ref: ProcessRef): boolean {
  if (ref.start !== undefined) {
    const fields = statFields(ref.pid);
    return fields?.[19] === ref.start && fields[0] !== 'Z'; // a zombie writes nothing
  }
  try {
    process.kill(ref.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's children, grandchildren, … (Linux; the compilers arduino-cli runs). */
async function descendants(pid: number): Promise<ProcessRef[]> {
  if (process.platform !== 'linux') return [];
  const parents = new Map<number, number[]>();
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    const parent = /^\d+$/.test(name) ? Number(statFields(Number(name))?.[1]) : NaN;
    if (Number.isInteger(parent)) parents.set(parent, [...(parents.get(parent) ?? []), Number(name)]);
  }
  const found: ProcessRef[] = [];
  for (let queue = [pid]; queue.length > 0;) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      const ref = processRef(child);
      if (ref) found.push(ref);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Ends the orphaned arduino-cli (the same process: its start time matched) and the compilers under
 * it with SIGKILL; true once all are gone.
 */
async function end(ref: ProcessRef): Promise<boolean> {
  try {
    process.kill(ref.pid, 'SIGSTOP'); // no new compiler starts while its children are listed
  } catch {
    return !alive(ref);
  }
  const all = [ref, ...(await descendants(ref.pid))];
  for (const p of all) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const until = Date.now() + KILL_WAIT_MS; Date.now() < until; await sleep(20)) if (!all.some(alive)) return true;
  return false;
}
