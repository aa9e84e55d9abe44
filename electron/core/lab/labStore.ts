// The labs of this data folder: one file each in labs/, every change a read-modify-write under the
// folder's lock and written atomically, so the station's parallel ports, the app and CLI commands
// never lose each other's changes and a kill -9 leaves the last whole state.
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ID_PATTERN_SLOT, MakerdeckError, type BoardIdentity, type LabLogEntry } from '../../contract';
import { processGone, thisProcess, type FolderLock } from '../settings/folderLock';
import { writeAtomic } from '../settings/writeAtomic';
import { LAB_FILE_VERSION, StoredLab, type StoredSeat } from './labFile';
import type { RosterRow } from './rosterCsv';

export interface NewLab {
  name: string;
  board: string;
  templateId: string;
  idPattern?: string;
  seats: number;
}

/** What the station learns when a board is assigned a seat. */
export interface Assignment {
  seat: StoredSeat;
  /** True when this board had the seat before (plugged in again). */
  known: boolean;
}

export class LabStore {
  readonly dir: string;

  constructor(
    dataDir: string,
    private readonly lock: FolderLock,
  ) {
    this.dir = path.join(dataDir, 'labs');
  }

  async list(): Promise<StoredLab[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const labs = await Promise.all(
      names.filter((n) => n.endsWith('.json')).map((n) => this.read(n.slice(0, -5)).catch(() => undefined)),
    );
    return labs.filter((lab): lab is StoredLab => lab !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A lab by id or name (any case). */
  async get(ref: string): Promise<StoredLab> {
    const id = slugOf(ref);
    if (id) {
      const lab = await this.read(id).catch((error: unknown) => ignoreMissing(error));
      if (lab) return lab;
    }
    const byName = (await this.list()).find((lab) => lab.name.toLowerCase() === ref.trim().toLowerCase());
    if (!byName) throw new MakerdeckError('NOT_FOUND', `There is no lab "${ref.slice(0, 64)}": makerdeck lab list`);
    return byName;
  }

  create(lab: NewLab): Promise<StoredLab> {
    const id = slugOf(lab.name);
    if (!id) throw new MakerdeckError('BAD_INPUT', 'The lab name needs a letter or digit');
    const pattern = lab.idPattern ?? `${id.slice(0, 56)}-{nn}`;
    return this.lock.hold(async () => {
      if ((await this.list()).some((other) => other.id === id))
        throw new MakerdeckError('BAD_INPUT', `A lab named "${lab.name}" exists: pick another name or delete it`);
      const stored: StoredLab = {
        version: LAB_FILE_VERSION,
        id,
        name: lab.name,
        board: lab.board,
        template: lab.templateId,
        idPattern: pattern,
        seatsFrom: 'pattern',
        createdAt: new Date().toISOString(),
        station: { running: false, parallel: 4, onlineTimeoutS: 60 },
        plugs: 0,
        seats: seatsFromPattern(pattern, lab.seats),
        log: [],
      };
      await this.write(stored);
      return stored;
    });
  }

  /** Replaces the seats; a seat whose device id the roster keeps keeps its board and state. */
  importRoster(ref: string, rows: RosterRow[]): Promise<StoredLab> {
    return this.update(ref, (lab) => {
      const old = new Map(lab.seats.map((seat) => [seat.deviceId.toLowerCase(), seat]));
      lab.seats = rows.map((row) => ({
        ...(old.get(row.deviceId.toLowerCase()) ?? { state: 'free' as const }),
        seat: row.seat,
        deviceId: row.deviceId,
        ...(row.student ? { student: row.student } : { student: undefined }),
      }));
      lab.seatsFrom = 'roster';
    });
  }

  async remove(ref: string): Promise<string> {
    return this.lock.hold(async () => {
      const lab = await this.get(ref);
      await rm(this.fileOf(lab.id), { force: true });
      return lab.id;
    });
  }

  /**
   * The seat for a board: the one it had (same identity), else the first free one. Undefined
   * when every seat is taken.
   */
  assign(ref: string, identity: BoardIdentity): Promise<Assignment | undefined> {
    let found: Assignment | undefined;
    return this.update(ref, (lab) => {
      const known = lab.seats.find((seat) => seat.identity?.key === identity.key);
      const seat = known ?? lab.seats.find((s) => s.state === 'free' && !s.identity);
      if (!seat) return;
      seat.identity = identity;
      found = { seat: { ...seat }, known: known !== undefined };
    }).then(() => found);
  }

  /** The next plug number (boards told apart by port and plug order). */
  async nextPlug(ref: string): Promise<number> {
    let plug = 0;
    await this.update(ref, (lab) => void (plug = ++lab.plugs));
    return plug;
  }

  /** Changes one seat (by device id); fields set to undefined are removed. */
  setSeat(ref: string, deviceId: string, patch: Partial<StoredSeat>): Promise<StoredLab> {
    return this.update(ref, (lab) => {
      const seat = lab.seats.find((s) => s.deviceId === deviceId);
      if (!seat) throw new MakerdeckError('NOT_FOUND', `Lab ${lab.name} has no seat with device id ${deviceId}`);
      Object.assign(seat, patch);
    });
  }

  appendLog(ref: string, entry: LabLogEntry): Promise<StoredLab> {
    return this.update(ref, (lab) => void lab.log.push(entry));
  }

  /**
   * Marks the lab's station running in this process. Refused while any lab's station runs in another
   * live process (the app, `serve`, a `lab station` command): each station takes every board plugged in.
   */
  claimStation(ref: string, station: Omit<StoredLab['station'], 'running' | 'owner'>): Promise<StoredLab> {
    return this.lock.hold(async () => {
      const me = thisProcess();
      const other = (await this.list()).find(
        ({ station: s }) => s.running && s.owner && s.owner.pid !== me.pid && !processGone(s.owner),
      );
      if (other)
        throw new MakerdeckError(
          'UNAVAILABLE',
          `The station of lab ${other.name} runs in another Makerdeck process (PID ${other.station.owner!.pid}: ` +
            'the app, makerdeck serve or makerdeck lab station): stop it there first',
        );
      return this.setStation(ref, { ...station, running: true, owner: me });
    });
  }

  setStation(ref: string, station: Partial<StoredLab['station']>): Promise<StoredLab> {
    return this.update(ref, (lab) => void Object.assign(lab.station, station));
  }

  /** Read, change, write back atomically, all under the folder's lock. */
  update(ref: string, change: (lab: StoredLab) => void): Promise<StoredLab> {
    return this.lock.hold(async () => {
      const lab = await this.get(ref);
      change(lab);
      const checked = StoredLab.parse(dropUndefined(lab));
      await this.write(checked);
      return checked;
    });
  }

  private async read(id: string): Promise<StoredLab> {
    const text = await readFile(this.fileOf(id), 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw damaged(this.fileOf(id), 'it is not JSON');
    }
    const parsed = StoredLab.safeParse(json);
    if (!parsed.success) throw damaged(this.fileOf(id), parsed.error.issues[0]?.message ?? 'unexpected content');
    return parsed.data;
  }

  private write(lab: StoredLab): Promise<void> {
    return writeAtomic(this.fileOf(lab.id), `${JSON.stringify(lab, null, 2)}\n`);
  }

  private fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }
}

/**
 * Whether the lab's station runs now: marked running by a process that still lives. A process that
 * died (a closed app, a kill -9) leaves the mark for its resume, but runs nothing.
 */
export function stationLive(lab: StoredLab): boolean {
  const { running, owner } = lab.station;
  return running && (!owner || !processGone(owner));
}

/** "Lab 3 (Monday)" → "lab-3-monday": the lab's id and file name. */
export function slugOf(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

/** lab3-{nn} with 3 seats → lab3-01, lab3-02, lab3-03. */
export function seatsFromPattern(pattern: string, count: number): StoredSeat[] {
  const width = (ID_PATTERN_SLOT.exec(pattern)?.[0].length ?? 3) - 2;
  return Array.from({ length: count }, (_, index) => ({
    seat: String(index + 1),
    deviceId: pattern.replace(ID_PATTERN_SLOT, String(index + 1).padStart(width, '0')),
    state: 'free' as const,
  }));
}

function dropUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function ignoreMissing(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}

function damaged(file: string, why: string): MakerdeckError {
  return new MakerdeckError('BAD_INPUT', `The lab file ${file} is damaged (${why}): restore it or delete it`);
}
