// The lab files: seats from a pattern or a roster, boards keeping their seat, changes under the
// folder lock that lose nothing, and a damaged file answered in one line.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MakerdeckError, type BoardIdentity } from '../../electron/contract';
import { LabStore, seatsFromPattern, slugOf, stationLive } from '../../electron/core/lab/labStore';
import { FolderLock } from '../../electron/core/settings/folderLock';

let dir: string;
let store: LabStore;
const newLab = { name: 'Lab 3 (Monday)', board: 'arduino:avr:uno', templateId: 'tpl', seats: 3 };
const identity = (serial: string): BoardIdentity => ({ kind: 'usb-serial', key: `usb:2341:0043:${serial}` });
const file = () => path.join(dir, 'labs', 'lab-3-monday.json');

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-labstore-'));
  store = new LabStore(dir, new FolderLock(dir));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LabStore', () => {
  it('makes seats from a pattern, finds the lab by id or name in any case, and refuses a second of the name', async () => {
    expect(slugOf('  Lab 3 (Monday) ')).toBe('lab-3-monday');
    expect(seatsFromPattern('r{nnn}x', 2).map((s) => s.deviceId)).toEqual(['r001x', 'r002x']);
    const lab = await store.create({ ...newLab, idPattern: 'lab3-{nn}' });
    expect(lab.seats).toEqual([
      { seat: '1', deviceId: 'lab3-01', state: 'free' },
      { seat: '2', deviceId: 'lab3-02', state: 'free' },
      { seat: '3', deviceId: 'lab3-03', state: 'free' },
    ]);
    expect((await store.get('LAB 3 (monday)')).id).toBe('lab-3-monday');
    expect((await store.get('lab-3-monday')).name).toBe('Lab 3 (Monday)');
    await expect(store.create(newLab)).rejects.toThrow('A lab named "Lab 3 (Monday)" exists');
    await expect(store.get('lab 4')).rejects.toThrow('There is no lab "lab 4": makerdeck lab list');
    expect((await store.create({ ...newLab, name: 'Lab 9' })).seats[0]!.deviceId).toBe('lab-9-01');
  });

  it('gives a board plugged in again its seat, the next board the next free seat, and none when all are taken', async () => {
    await store.create(newLab);
    const a = await store.assign('lab-3-monday', identity('A'));
    const b = await store.assign('lab-3-monday', identity('B'));
    expect([a?.seat.deviceId, a?.known, b?.seat.deviceId]).toEqual(['lab-3-monday-01', false, 'lab-3-monday-02']);
    expect(await store.assign('lab-3-monday', identity('A'))).toMatchObject({ known: true, seat: { seat: '1' } });
    await store.assign('lab-3-monday', identity('C'));
    expect(await store.assign('lab-3-monday', identity('D'))).toBeUndefined();
  });

  it('keeps the board and state of a seat whose device id the new roster keeps', async () => {
    await store.create({ ...newLab, idPattern: 'd-{n}' });
    await store.assign('lab-3-monday', identity('A'));
    await store.setSeat('lab-3-monday', 'd-1', { state: 'online', port: '/dev/ttyACM0' });
    const lab = await store.importRoster('lab-3-monday', [
      { seat: 'A1', student: 'Ann', deviceId: 'D-1' },
      { seat: 'A2', deviceId: 'new-2' },
    ]);
    expect(lab.seatsFrom).toBe('roster');
    expect(lab.seats).toEqual([
      { seat: 'A1', student: 'Ann', deviceId: 'D-1', state: 'online', port: '/dev/ttyACM0', identity: identity('A') },
      { seat: 'A2', deviceId: 'new-2', state: 'free' },
    ]);
  });

  it('leaves the file as it was when a change throws, and names a missing seat', async () => {
    await store.create(newLab);
    const before = readFileSync(file(), 'utf8');
    await expect(
      store.update('lab-3-monday', (lab) => {
        lab.seats = [];
        throw new MakerdeckError('BAD_INPUT', 'changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await expect(store.setSeat('lab-3-monday', 'nope', { state: 'failed' })).rejects.toThrow(
      'Lab Lab 3 (Monday) has no seat with device id nope',
    );
    expect(readFileSync(file(), 'utf8')).toBe(before);
  });

  it('loses no change when many writers with their own locks update seats at once', async () => {
    await store.create({ ...newLab, seats: 24 });
    const writers = [store, new LabStore(dir, new FolderLock(dir)), new LabStore(dir, new FolderLock(dir))];
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        writers[i % 3]!.setSeat('lab-3-monday', `lab-3-monday-${String(i + 1).padStart(2, '0')}`, {
          state: 'flashed',
          port: `/dev/ttyACM${i}`,
        }),
      ),
    );
    await Promise.all(writers.map((w, i) => w.appendLog('lab-3-monday', { ...logEntry, port: `w${i}` })));
    const lab = await store.get('lab-3-monday');
    expect(lab.seats.map((s) => s.port)).toEqual(Array.from({ length: 24 }, (_, i) => `/dev/ttyACM${i}`));
    expect(lab.seats.every((s) => s.state === 'flashed')).toBe(true);
    expect(lab.log.map((e) => e.port).sort()).toEqual(['w0', 'w1', 'w2']);
  });

  it('answers a damaged or hand-edited file in one line naming it, and lists the other labs', async () => {
    await store.create(newLab);
    await store.create({ ...newLab, name: 'Lab 4' });
    writeFileSync(file(), '{"version":1,"id":');
    const damaged = await store.get('lab-3-monday').then(
      () => undefined,
      (error: MakerdeckError) => error,
    );
    expect([damaged?.code, damaged?.message]).toEqual([
      'BAD_INPUT',
      `The lab file ${file()} is damaged (it is not JSON): restore it or delete it`,
    ]);
    writeFileSync(file(), JSON.stringify({ version: 1, id: 'lab-3-monday', seats: 'all of them' }));
    await expect(store.get('lab-3-monday')).rejects.toThrow(/^The lab file .+ is damaged \(.+\): restore it/);
    expect((await store.list()).map((l) => l.name)).toEqual(['Lab 4']);
  });

  it('refuses a station while another live process runs one, and takes over once that process has ended', async () => {
    await store.create(newLab);
    const other = await store.create({ ...newLab, name: 'Lab 4' });
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const owner = { pid: holder.pid!, host: os.hostname() };
      await store.setStation(other.id, { running: true, owner });
      const settings = { parallel: 4, onlineTimeoutS: 60 };
      await expect(store.claimStation('lab-3-monday', settings)).rejects.toThrow(
        `The station of lab Lab 4 runs in another Makerdeck process (PID ${holder.pid}`,
      );
      expect((await store.get('lab-3-monday')).station.running).toBe(false);
      expect(stationLive(await store.get(other.id))).toBe(true);
      holder.kill('SIGKILL');
      await once(holder, 'exit');
      // Still marked running (for its resume), but nothing runs it: delete and reset may go ahead.
      expect((await store.get(other.id)).station.running).toBe(true);
      expect(stationLive(await store.get(other.id))).toBe(false);
      const claimed = await store.claimStation('lab-3-monday', settings);
      expect(claimed.station).toMatchObject({ running: true, owner: { pid: process.pid, host: os.hostname() } });
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

const logEntry = {
  time: '2026-12-05T09:00:00.000Z',
  port: '',
  identity: 'usb-serial' as const,
  deviceId: 'x',
  result: 'online' as const,
  seconds: 1,
};
