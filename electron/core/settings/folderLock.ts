// One writer at a time per data folder, across processes (the app, `makerdeck serve` and any number
// of CLI commands): a lock file created exclusively, holding the holder's PID, host, boot and
// process start time. A holder that died (kill -9, a crash, a reboot) is noticed by those and its
// lock is broken; only one waiter breaks it at a time (the ".break" file), so a live lock is never
// removed by mistake. Waiting is bounded and ends in one line naming the holder.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MakerdeckError } from '../../contract';
import { formatSeconds } from '../timeout';

const WAIT_MS = 20_000;
/** A lock file still empty after this long was left by a process that died while creating it. */
const UNFINISHED_MS = 10_000;

interface Owner {
  pid: number;
  host: string;
  boot?: string;
  start?: string;
  token: string;
  since: string;
}

/** What a reader finds: the owner, or (for a file being written or damaged) its size and age. */
type Found = { owner?: Owner; text: string; mtimeMs: number } | undefined;

export class FolderLock {
  readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();
  /** Set inside a hold, so a hold nested in it (a credential made during a device login) runs at once. */
  private readonly holding = new AsyncLocalStorage<true>();

  constructor(
    private readonly dir: string,
    private readonly waitMs = WAIT_MS,
  ) {
    this.path = path.join(dir, 'settings.lock');
  }

  /**
   * Runs `work` holding the lock; calls from this process queue up first, in order. Reentrant: a
   * hold from within `work` already has the lock (queueing it would wait for itself forever).
   */
  hold<T>(work: () => Promise<T>): Promise<T> {
    if (this.holding.getStore()) return work();
    const next = this.queue.then(async () => {
      const token = await this.acquire();
      try {
        return await this.holding.run(true, work);
      } finally {
        await this.release(token);
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async acquire(): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const owner = newOwner();
    const deadline = Date.now() + this.waitMs;
    for (let attempt = 0; ; attempt++) {
      if (await createExclusive(this.path, JSON.stringify(owner))) return owner.token;
      const found = await read(this.path);
      if (found && isStale(found)) {
        await this.breakStale(found);
        continue;
      }
      if (Date.now() > deadline) throw this.busy(found);
      await sleep(Math.min(100, 5 * 2 ** attempt) + Math.random() * 10);
    }
  }

  private async release(token: string): Promise<void> {
    const found = await read(this.path);
    if (found?.owner?.token === token) await unlink(this.path).catch(() => undefined);
  }

  /** Removes the dead holder's lock — under the breaker, and only if it is still that same lock. */
  private async breakStale(seen: NonNullable<Found>): Promise<void> {
    const breaker = `${this.path}.break`;
    if (!(await createExclusive(breaker, JSON.stringify(newOwner())))) {
      const other = await read(breaker);
      if (other && isStale(other)) await unlink(breaker).catch(() => undefined);
      return sleep(5);
    }
    try {
      const now = await read(this.path);
      if (now && now.text === seen.text && now.mtimeMs === seen.mtimeMs) await unlink(this.path).catch(() => undefined);
    } finally {
      await unlink(breaker).catch(() => undefined);
    }
  }

  private busy(found: Found): MakerdeckError {
    const holder = found?.owner;
    const elsewhere = holder !== undefined && holder.host !== os.hostname();
    const where = elsewhere ? ` on ${holder.host}` : '';
    const who = holder ? `Another Makerdeck (process ${holder.pid}${where})` : 'Another Makerdeck';
    const remote = elsewhere ? `; if no Makerdeck runs on ${holder.host}, delete ${this.path}` : '';
    const waited = `has been changing the settings in ${this.dir} for over ${formatSeconds(this.waitMs)}`;
    return new MakerdeckError('TIMEOUT', `${who} ${waited}: try again when it has finished${remote}`);
  }
}

function newOwner(): Owner {
  return { ...identity(process.pid), token: randomBytes(8).toString('hex'), since: new Date().toISOString() };
}

/** Creates the file only if it does not exist; resolves false if it does. */
async function createExclusive(file: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw cannotCreate(file, error);
  }
  try {
    await handle.writeFile(content);
  } catch (error) {
    await handle.close();
    await unlink(file).catch(() => undefined); // an empty lock would hold everyone up for UNFINISHED_MS
    throw cannotCreate(file, error);
  }
  await handle.close();
  return true;
}

function cannotCreate(file: string, error: unknown): MakerdeckError {
  const reason = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'the disk is full' : (error as Error).message;
  return new MakerdeckError('UNAVAILABLE', `Cannot create ${file}: ${reason}`);
}

async function read(file: string): Promise<Found> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(text) as Owner;
    } catch {
      owner = undefined; // being written right now, or damaged
    }
    return { owner: typeof owner?.pid === 'number' ? owner : undefined, text, mtimeMs: info.mtimeMs };
  } catch {
    return undefined; // released meanwhile
  }
}

function isStale(found: NonNullable<Found>): boolean {
  const { owner } = found;
  if (!owner) return Date.now() - found.mtimeMs > UNFINISHED_MS;
  return processGone(owner);
}

/** A process as another one can check later: PID, host, and on Linux its boot and start time. */
export type ProcessIdentity = Omit<Owner, 'token' | 'since'>;

/** This process, to be recorded where another process will ask whether it still runs. */
export function thisProcess(): ProcessIdentity {
  return identity(process.pid);
}

/** True when the recorded process has ended (or its PID now belongs to another process, or the machine restarted). */
export function processGone(owner: ProcessIdentity): boolean {
  if (owner.host !== os.hostname()) return false; // a shared folder: the holder cannot be checked from here
  const now = identity(owner.pid);
  if (owner.boot && now.boot && owner.boot !== now.boot) return true; // the machine restarted since
  if (!alive(owner.pid)) return true;
  return Boolean(owner.start && now.start && owner.start !== now.start); // the PID now belongs to another process
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who a process is: PID and host, plus (on Linux) the boot id and the process's start time, against PID reuse. */
function identity(pid: number): Omit<Owner, 'token' | 'since'> {
  const stat = readProc(`/proc/${pid}/stat`); // "pid (name) state …": the start time is field 22
  const start = stat?.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
  return { pid, host: os.hostname(), boot: readProc('/proc/sys/kernel/random/boot_id'), start };
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
