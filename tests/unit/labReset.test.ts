// The reset's rules with a real lab store and stand-ins for the broker and InfluxDB (the real ones
// are in tests/integration/labReset.test.ts): what it checks before changing anything, and what a
// failure half-way says and leaves for the next reset.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MakerdeckError } from '../../electron/contract';
import { resetLab, type LabResetDeps } from '../../electron/core/lab/labReset';
import { LabStore } from '../../electron/core/lab/labStore';
import { FolderLock } from '../../electron/core/settings/folderLock';

let dir: string;
let store: LabStore;
/** Stand-in broker and keychain: device ids with a login; withdraw fails for `failOn`. */
let logins: Set<string>;
let failOn: string | undefined;
let dropped: string[][];
let calls: string[];

function deps(patch: Partial<LabResetDeps> = {}): LabResetDeps {
  return {
    store,
    accounts: {
      check: async () => void calls.push('check broker'),
      withdraw: async (id) => {
        calls.push(`withdraw ${id}`);
        if (id === failOn) throw new MakerdeckError('UNAVAILABLE', 'stand-in broker: connection reset');
        const had = logins.delete(id);
        return { brokerUser: had, keychainEntry: had };
      },
      username: (id) => `makerdeck-dev-${id}`,
    },
    data: {
      check: async () => void calls.push('check influx'),
      drop: async (ids) => void dropped.push(ids),
    },
    ...patch,
  };
}

/** The error a reset ends in (it must end in one). */
async function failure(reset: Promise<unknown>): Promise<MakerdeckError> {
  const error = await reset.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof MakerdeckError)) throw new Error(`expected a MakerdeckError, got ${String(error)}`);
  return error;
}

const file = () => readFileSync(path.join(dir, 'labs', 'lab-5.json'), 'utf8');

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-labreset-'));
  store = new LabStore(dir, new FolderLock(dir));
  await store.create({ name: 'Lab 5', board: 'arduino:avr:uno', templateId: 'tpl', idPattern: 'l5-{n}', seats: 3 });
  for (const id of ['l5-1', 'l5-2']) {
    await store.assign('lab-5', { kind: 'port-order', key: `port:/dev/ttyACM0#${id}` });
    await store.setSeat('lab-5', id, { state: 'online', port: '/dev/ttyACM0', buildHash: 'h' });
  }
  logins = new Set(['l5-1', 'l5-2']);
  failOn = undefined;
  dropped = [];
  calls = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('resetLab (stand-in broker and InfluxDB)', () => {
  it('revokes every seat, drops the points, frees the seats and says what it removed', async () => {
    const summary = await resetLab(deps(), { lab: 'Lab 5', confirm: 'Lab 5', dropData: true });
    expect(summary).toEqual({
      lab: 'Lab 5',
      brokerUsers: ['makerdeck-dev-l5-1', 'makerdeck-dev-l5-2'],
      keychainEntries: 2,
      data: 'dropped',
      buildsKept: true,
      seatsFreed: 2,
      logKept: 0,
    });
    expect(dropped).toEqual([['l5-1', 'l5-2', 'l5-3']]);
    const lab = await store.get('lab-5');
    expect(lab.seats).toEqual(['1', '2', '3'].map((n) => ({ seat: n, deviceId: `l5-${n}`, state: 'free' })));
    expect(lab.plugs).toBe(0);
  });

  it('checks the name, the station and the broker (and InfluxDB when asked) before changing anything', async () => {
    const before = file();
    const refusals = [
      [{ confirm: 'lab 5' }, 'BAD_INPUT', 'To reset Lab 5, type its name "Lab 5" to confirm'],
      [
        {},
        'UNAVAILABLE',
        'The broker is not reachable (down for the test): start it with makerdeck stack up; nothing was reset',
      ],
      [{ dropData: true }, 'UNAVAILABLE', 'InfluxDB is down for the test; nothing was reset'],
    ] as const;
    const down = async () => {
      throw new MakerdeckError('UNAVAILABLE', 'down for the test.');
    };
    const influxDown = async () => {
      throw new MakerdeckError('UNAVAILABLE', 'InfluxDB is down for the test');
    };
    const withDeps = [
      deps(),
      deps({ accounts: { ...deps().accounts, check: down } }),
      deps({ data: { ...deps().data, check: influxDown } }),
    ];
    for (const [index, [args, code, message]] of refusals.entries()) {
      const error = await failure(
        resetLab(withDeps[index]!, { lab: 'lab-5', confirm: 'Lab 5', dropData: false, ...args }),
      );
      expect([error.code, error.message]).toEqual([code, message]);
    }
    await store.setStation('lab-5', { running: true });
    const running = await failure(resetLab(deps(), { lab: 'lab-5', confirm: 'lab-5', dropData: false }));
    expect(running.message).toBe('The station of Lab 5 is running: stop it first, then reset');
    expect(calls.filter((c) => c.startsWith('withdraw'))).toEqual([]);
    expect(dropped).toEqual([]);
    await store.setStation('lab-5', { running: false });
    expect(file()).toBe(before);
  });

  it('stops half-way with what was done and what was not, and the next reset finishes it', async () => {
    failOn = 'l5-2';
    const error = await failure(resetLab(deps(), { lab: 'lab-5', confirm: 'Lab 5', dropData: true }));
    expect([error.code, error.message]).toEqual([
      'UNAVAILABLE',
      'The reset of Lab 5 stopped (stand-in broker: connection reset). Done: 1 broker user and 1 keychain entry ' +
        'removed. Not done: the logins of 2 seat(s) from l5-2 on, the points, the seats. Run the reset again to finish it',
    ]);
    expect(dropped).toEqual([]);
    expect((await store.get('lab-5')).seats[0]!.state).toBe('online'); // seats stay until everything else is done

    failOn = undefined;
    const summary = await resetLab(deps(), { lab: 'lab-5', confirm: 'Lab 5', dropData: true });
    expect(summary).toMatchObject({ brokerUsers: ['makerdeck-dev-l5-2'], keychainEntries: 1, data: 'dropped' });
    expect(logins.size).toBe(0);
  });
});
