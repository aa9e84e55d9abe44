// The station's bookkeeping with a real LabStore (a temp data folder) and stand-ins for the port list,
// the flasher and the online check: the slot limit, seats a killed Makerdeck left flashing, a seat
// already flashed, ports without a USB id. The real flashing is in tests/integration/labStation.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MakerdeckError, type FlashSummary, type StationView } from '../../electron/contract';
import { LabStation, type ListedPort } from '../../electron/core/lab/labStation';
import { LabStore } from '../../electron/core/lab/labStore';
import type { OnlineChecker } from '../../electron/core/lab/onlineCheck';
import type { FlashRequest } from '../../electron/core/lab/stationPort';
import { FolderLock } from '../../electron/core/settings/folderLock';
import { until } from '../support/wait';

let dir: string;
let store: LabStore;
let ports: ListedPort[];
let listings = 0;
let flashing: Array<{ request: FlashRequest; done(): void; fail(error: Error): void }>;
let onlineWaits: string[];
let views: StationView[];

const uno = (n: number, serial?: string): ListedPort => ({
  path: `/dev/ttyACM${n}`,
  vendorId: '2341',
  productId: '0043',
  serialNumber: serial,
});

/** Stand-ins: a flasher that finishes when the test says so, an online check that says online at once. */
function station(labId: string, parallel: number): LabStation {
  const online: OnlineChecker = {
    wait: async ({ deviceId }) => (onlineWaits.push(deviceId), 'online'),
    close: async () => undefined,
  };
  const flash = (request: FlashRequest) =>
    new Promise<FlashSummary>((resolve, reject) =>
      flashing.push({
        request,
        fail: reject,
        done: () =>
          resolve({
            board: 'uno',
            port: request.port,
            bytes: 1,
            ms: 1,
            verified: true,
            release: { deviceId: request.source.as.deviceId, buildHash: '0123456789abcdef', cached: true },
            boot: { reported: true, deviceId: request.source.as.deviceId, buildHash: '0123456789abcdef', ms: 1 },
          }),
      }),
    );
  return new LabStation(
    { id: labId, name: labId, board: 'arduino:avr:uno', template: 'tpl' } as never,
    {
      store,
      emit: (view) => views.push(view),
      listPorts: async () => (listings++, ports),
      flash,
      cancel: () => undefined,
      watch: () => () => undefined,
      online,
      ownLogin: async () => false,
      pollMs: 20,
    },
    { parallel, onlineTimeoutS: 5 },
  );
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-labstation-'));
  store = new LabStore(dir, new FolderLock(dir));
  ports = [];
  flashing = [];
  onlineWaits = [];
  views = [];
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LabStation (stand-in flasher, port list and online check; real lab store)', () => {
  it('flashes at most `parallel` boards at once; the others wait for a free slot', async () => {
    const lab = await store.create({ name: 'Slots', board: 'arduino:avr:uno', templateId: 'tpl', seats: 4 });
    const s = station(lab.id, 1);
    ports = [uno(0, 'A'), uno(1, 'B'), uno(2, 'C')];
    await s.start();
    await until('one flash', () => flashing.length === 1);
    const waiting = () => s.view().ports.filter((p) => p.message === 'waiting for a free slot').length;
    await until('two waiting', () => waiting() === 2);
    for (let n = 1; n <= 3; n++) {
      await until(`flash ${n}`, () => flashing.length === n);
      expect(flashing.length).toBe(n); // the next starts only once this one is done
      flashing[n - 1]!.done();
    }
    await until('all online', () => s.view().ports.every((p) => p.phase === 'online'));
    expect(onlineWaits.sort()).toEqual(['slots-01', 'slots-02', 'slots-03']);
    s.shutdown();
  });

  it('takes a board swapped onto the same port between two polls as a new board', async () => {
    const lab = await store.create({ name: 'Swap', board: 'arduino:avr:uno', templateId: 'tpl', seats: 3 });
    const s = station(lab.id, 2);
    ports = [uno(0, 'FIRST')];
    await s.start();
    await until('the first flash', () => flashing.length === 1);
    flashing[0]!.done();
    await until('the first online', () => s.view().ports[0]?.phase === 'online');
    // A listing read while a board is pulled out can miss its serial number: not another board.
    ports = [uno(0)];
    const listed = listings;
    await until('two polls of that listing', () => listings >= listed + 2);
    expect(flashing).toHaveLength(1);
    expect(s.view().ports[0]).toMatchObject({ deviceId: 'swap-01', phase: 'online' });
    ports = [uno(0, 'SECOND')]; // unplugged and the next board plugged in, quicker than a poll
    await until('the second flash', () => flashing.length === 2);
    expect(flashing.map((f) => f.request.source.as.deviceId)).toEqual(['swap-01', 'swap-02']);
    flashing[1]!.done();
    await until(
      'the second online',
      () => s.view().ports[0]?.deviceId === 'swap-02' && s.view().ports[0]?.phase === 'online',
    );
    expect((await store.get(lab.id)).seats.map((seat) => seat.identity?.usbSerial)).toEqual([
      'FIRST',
      'SECOND',
      undefined,
    ]);
    s.shutdown();
  });

  it('stops taking boards when the keychain is locked; the boards being flashed finish', async () => {
    const lab = await store.create({ name: 'Locked', board: 'arduino:avr:uno', templateId: 'tpl', seats: 4 });
    const s = station(lab.id, 2);
    ports = [uno(0, 'A'), uno(1, 'B')];
    await s.start();
    await until('two flashes', () => flashing.length === 2);
    const locked = 'Could not write to the keychain: The keyring is locked. Unlock it: log in to your desktop session';
    flashing[0]!.fail(new MakerdeckError('UNAVAILABLE', locked));
    await until('the station stopped', () => !s.view().running);
    expect(s.view().notices).toContain(
      `stopped: ${locked}. Then start the station again: boards plugged in meanwhile are taken then`,
    );
    expect((await store.get(lab.id)).station.running).toBe(false);
    flashing[1]!.done(); // the other board finishes its go
    await until('the other online', () => s.view().ports.some((p) => p.phase === 'online'));
    ports = [...ports, uno(2, 'C')];
    await (s as unknown as { tick(): Promise<void> }).tick(); // a poll after the halt takes no board
    expect(flashing).toHaveLength(2);
    expect((await store.get(lab.id)).seats.map((seat) => seat.state)).toEqual(['failed', 'online', 'free', 'free']);
    s.shutdown();
  });

  it('a seat left flashing is flashed again when its board is there, else failed as interrupted', async () => {
    const lab = await store.create({ name: 'Resume', board: 'arduino:avr:uno', templateId: 'tpl', seats: 3 });
    const identity = (serial: string) => ({
      kind: 'usb-serial' as const,
      key: `usb:2341:0043:${serial}`,
      usbSerial: serial,
      vidPid: '2341:0043',
    });
    await store.setSeat(lab.id, 'resume-01', { state: 'flashing', identity: identity('HERE'), port: '/dev/ttyACM0' });
    await store.setSeat(lab.id, 'resume-02', { state: 'flashing', identity: identity('GONE'), port: '/dev/ttyACM1' });
    await store.setSeat(lab.id, 'resume-03', { state: 'flashed', identity: identity('DONE'), buildHash: 'abc' });
    ports = [uno(0, 'HERE'), uno(2, 'DONE'), { path: '/dev/ttyS0' }];
    const s = station(lab.id, 2);
    await s.start();
    await until('one flash', () => flashing.length === 1);
    expect(flashing[0]!.request.source.as.deviceId).toBe('resume-01');
    flashing[0]!.done();
    await until('both online', () => s.view().ports.filter((p) => p.phase === 'online').length === 2);
    expect(flashing).toHaveLength(1); // the flashed seat only waited for its telemetry
    const seats = (await store.get(lab.id)).seats;
    expect(seats.map((seat) => [seat.deviceId, seat.state])).toEqual([
      ['resume-01', 'online'],
      ['resume-02', 'failed'],
      ['resume-03', 'online'],
    ]);
    expect(seats[1]!.reason).toBe('interrupted by a restart of Makerdeck: plug it in again');
    const log = (await store.get(lab.id)).log;
    expect(log[0]).toMatchObject({ deviceId: 'resume-02', result: 'failed', usbSerial: 'GONE', seconds: 0 });
    expect(
      log
        .slice(1)
        .map((entry) => `${entry.deviceId} ${entry.result}`)
        .sort(),
    ).toEqual(['resume-01 online', 'resume-03 online']);
    expect(s.view().notices).toEqual([
      'ignored: /dev/ttyS0 (no USB id, so not a board: boards are plugged in over USB)',
    ]);
    s.shutdown();
  });
});
