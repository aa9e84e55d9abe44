// Resetting a lab between classes: every seat's broker user and keychain entry go (together, user
// first), optionally the lab's points in InfluxDB, and the seats are free again for the next class.
// The built images stay (the next class flashes without compiling) and so does the log. Everything
// it needs is checked before anything changes; a failure half-way says what was done and what was
// not, and running the reset again finishes it (each step is safe to repeat).
import { MakerdeckError, type LabResetSummary, type ParsedArgsOf } from '../../contract';
import type { StoredLab } from './labFile';
import { stationLive, type LabStore } from './labStore';

export interface LabResetDeps {
  store: Pick<LabStore, 'get' | 'update'>;
  /** Device broker logins (DeviceAccounts): the user first, then its keychain entry. */
  accounts: {
    /** Throws unless the broker's management API answers (the stack is up). */
    check(): Promise<void>;
    withdraw(deviceId: string): Promise<{ brokerUser: boolean; keychainEntry: boolean }>;
    username(deviceId: string): string;
  };
  /** The environment's InfluxDB. */
  data: {
    check(): Promise<void>;
    drop(deviceIds: string[]): Promise<unknown>;
  };
}

/** Resets the lab; see the file comment. Throws one line, naming what was done, if a step fails. */
export async function resetLab(deps: LabResetDeps, args: ParsedArgsOf<'lab.reset'>): Promise<LabResetSummary> {
  const lab = await deps.store.get(args.lab);
  await preflight(deps, lab, args);
  const summary: LabResetSummary = {
    lab: lab.name,
    brokerUsers: [],
    keychainEntries: 0,
    data: args.dropData ? 'not dropped yet' : 'kept',
    buildsKept: true,
    seatsFreed: 0,
    logKept: lab.log.length,
  };
  const deviceIds = lab.seats.map((seat) => seat.deviceId);
  const notDone = [`the logins of ${deviceIds.length} seat(s)`, ...(args.dropData ? ['the points'] : []), 'the seats'];
  try {
    for (const [index, id] of deviceIds.entries()) {
      notDone[0] = `the logins of ${deviceIds.length - index} seat(s) from ${id} on`;
      const { brokerUser, keychainEntry } = await deps.accounts.withdraw(id);
      if (brokerUser) summary.brokerUsers.push(deps.accounts.username(id));
      if (keychainEntry) summary.keychainEntries++;
    }
    notDone.shift();
    if (args.dropData) {
      await deps.data.drop(deviceIds);
      summary.data = 'dropped';
      notDone.shift();
    }
    summary.seatsFreed = await freeSeats(deps, lab.id);
  } catch (error) {
    throw halfway(summary, notDone, error);
  }
  return summary;
}

async function preflight(deps: LabResetDeps, lab: StoredLab, args: ParsedArgsOf<'lab.reset'>): Promise<void> {
  const typed = args.confirm.trim();
  if (typed !== lab.name && typed !== lab.id)
    throw new MakerdeckError('BAD_INPUT', `To reset ${lab.name}, type its name "${lab.name}" to confirm`);
  if (stationLive(lab))
    throw new MakerdeckError('BAD_INPUT', `The station of ${lab.name} is running: stop it first, then reset`);
  // A keychain entry must never be deleted while its broker user lives on: no broker, no reset.
  await deps.accounts.check().catch((error: unknown) => {
    throw new MakerdeckError(
      'UNAVAILABLE',
      `The broker is not reachable (${reasonOf(error)}): start it with makerdeck stack up; nothing was reset`,
    );
  });
  if (args.dropData)
    await deps.data.check().catch((error: unknown) => {
      throw new MakerdeckError('UNAVAILABLE', `${reasonOf(error)}; nothing was reset`);
    });
}

/** Every seat free again: board identities, ports and states cleared; the log stays. */
async function freeSeats(deps: LabResetDeps, ref: string): Promise<number> {
  let freed = 0;
  await deps.store.update(ref, (lab) => {
    if (stationLive(lab)) throw new MakerdeckError('BAD_INPUT', `The station of ${lab.name} was started meanwhile`);
    lab.station.running = false; // a closed app's station is not resumed for a lab just reset
    lab.seats = lab.seats.map(({ seat, student, deviceId, state, identity }) => {
      if (state !== 'free' || identity) freed++;
      return { seat, deviceId, state: 'free' as const, ...(student !== undefined && { student }) };
    });
    lab.plugs = 0;
  });
  return freed;
}

function halfway(summary: LabResetSummary, notDone: string[], error: unknown): MakerdeckError {
  const entries = summary.keychainEntries;
  const done =
    `${plural(summary.brokerUsers.length, 'broker user', 'broker users')} and ` +
    `${plural(entries, 'keychain entry', 'keychain entries')} removed`;
  return new MakerdeckError(
    error instanceof MakerdeckError && error.code === 'BAD_INPUT' ? 'BAD_INPUT' : 'UNAVAILABLE',
    `The reset of ${summary.lab} stopped (${reasonOf(error)}). Done: ${done}` +
      `${summary.data === 'dropped' ? ', points dropped' : ''}. Not done: ${notDone.join(', ')}. ` +
      'Run the reset again to finish it',
  );
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/[.:]?\s*$/, '');
}
