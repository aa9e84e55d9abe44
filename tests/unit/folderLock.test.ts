// The data folder's lock: who may break a lock, who must be waited for, and the bounded wait.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderLock } from '../../electron/core/settings/folderLock';

let dir: string;
const lockFile = () => path.join(dir, 'settings.lock');
const left = (owner: Record<string, unknown>) =>
  writeFileSync(
    lockFile(),
    JSON.stringify({ host: os.hostname(), token: 'left-behind', since: '2026-01-01', ...owner }),
  );

/** A PID that no process has any more: a child that has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FolderLock', () => {
  it('runs holders one at a time, in order, and leaves no lock file behind', async () => {
    const lock = new FolderLock(dir);
    const order: string[] = [];
    const hold = (name: string) =>
      lock.hold(async () => {
        order.push(`${name} in`);
        expect(readFileSync(lockFile(), 'utf8')).toContain(`"pid":${process.pid}`);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(`${name} out`);
      });
    await Promise.all([hold('a'), hold('b'), hold('c')]);
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
    expect(existsSync(lockFile())).toBe(false);
  });

  it('lets a hold nested in a hold run at once (a device login that creates a stack credential)', async () => {
    const lock = new FolderLock(dir, 1000);
    const order: string[] = [];
    const outer = lock.hold(async () => {
      order.push('outer in');
      await lock.hold(async () => order.push('inner'));
      order.push('outer out');
    });
    const after = lock.hold(async () => order.push('after'));
    await Promise.all([outer, after]);
    expect(order).toEqual(['outer in', 'inner', 'outer out', 'after']);
    expect(existsSync(lockFile())).toBe(false);
  });

  it('waits for a live holder, then gives up in one line naming it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const holding = new Promise<void>((resolve) => (entered = resolve));
    const holder = new FolderLock(dir).hold(() => (entered(), held));
    await holding;
    const waiter = new FolderLock(dir, 300).hold(async () => 'ran');
    await expect(waiter).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: `Another Makerdeck (process ${process.pid}) has been changing the settings in ${dir} for over 0.3 s: try again when it has finished`,
    });
    release();
    await holder;
    await expect(new FolderLock(dir, 300).hold(async () => 'ran')).resolves.toBe('ran');
  });

  it('breaks the lock of a process that is gone (kill -9, crash)', async () => {
    left({ pid: deadPid() });
    await expect(new FolderLock(dir, 300).hold(async () => 'ran')).resolves.toBe('ran');
    expect(existsSync(lockFile())).toBe(false);
  });

  // Boot id and process start time come from /proc.
  it.runIf(process.platform === 'linux')(
    'breaks a lock from before a restart, and one whose PID was reused',
    async () => {
      left({ pid: process.pid, boot: 'another-boot' });
      await expect(new FolderLock(dir, 300).hold(async () => 'after a restart')).resolves.toBe('after a restart');
      left({ pid: process.pid, start: '1' }); // this PID, but a process started at another time
      await expect(new FolderLock(dir, 300).hold(async () => 'pid reused')).resolves.toBe('pid reused');
    },
  );

  it('never breaks a lock held on another host (a shared folder), and says how to clear it', async () => {
    left({ pid: deadPid(), host: 'other-host' });
    const waiter = new FolderLock(dir, 200).hold(async () => 'ran');
    await expect(waiter).rejects.toThrow(`(process `);
    await expect(waiter).rejects.toThrow(`on other-host) has been changing the settings`);
    await expect(waiter).rejects.toThrow(`if no Makerdeck runs on other-host, delete ${lockFile()}`);
  });

  it('waits for a lock file still being written, and breaks one left empty for over 10 s', async () => {
    writeFileSync(lockFile(), '');
    await expect(new FolderLock(dir, 200).hold(async () => 'ran')).rejects.toMatchObject({ code: 'TIMEOUT' });
    const past = new Date(Date.now() - 20_000);
    utimesSync(lockFile(), past, past);
    await expect(new FolderLock(dir, 200).hold(async () => 'ran')).resolves.toBe('ran');
  });
});
