// The lab capability: classroom labs (seats from an id pattern or a roster), the flash station that
// releases and flashes their boards, its log, and the reset between classes.
import {
  MakerdeckError,
  type LabLogEntry,
  type LabLogExport,
  type LabSeatView,
  type LabSummary,
  type LabView,
  type ParsedArgsOf,
  type SeatState,
} from '../../contract';
import type { Profiles } from '../profiles/profiles';
import { exportLabLog } from './labLog';
import type { StoredLab } from './labFile';
import { stationLive, type LabStore } from './labStore';
import { parseRosterCsv } from './rosterCsv';

export interface LabServiceDeps {
  store: LabStore;
  profiles: Pick<Profiles, 'get' | 'list'>;
}

const SEAT_STATES: SeatState[] = ['free', 'flashing', 'flashed', 'online', 'silent', 'failed'];

export class LabService {
  constructor(private readonly deps: LabServiceDeps) {}

  async list(): Promise<LabSummary[]> {
    const names = await this.profileNames();
    return (await this.deps.store.list()).map((lab) => {
      const counts = Object.fromEntries(SEAT_STATES.map((s) => [s, 0])) as Record<SeatState, number>;
      for (const seat of lab.seats) counts[seat.state]++;
      const { id, name, board } = lab;
      return { id, name, board, template: templateName(lab, names), stationRunning: stationLive(lab), counts };
    });
  }

  async get(ref: string): Promise<LabView> {
    return this.view(await this.deps.store.get(ref));
  }

  async create(args: ParsedArgsOf<'lab.create'>): Promise<LabView> {
    const template = await this.deps.profiles.get(args.template).catch(() => {
      throw new MakerdeckError(
        'NOT_FOUND',
        `There is no profile "${args.template}" to use as the template: makerdeck profile list`,
      );
    });
    const lab = await this.deps.store.create({
      name: args.name,
      board: args.board,
      templateId: template.id,
      idPattern: args.idPattern,
      seats: args.seats,
    });
    return this.view(lab);
  }

  async importRoster(ref: string, csv: string): Promise<LabView> {
    const rows = parseRosterCsv(csv); // a bad roster changes nothing
    return this.view(await this.deps.store.importRoster(ref, rows));
  }

  async remove(ref: string): Promise<{ id: string }> {
    const lab = await this.deps.store.get(ref);
    if (stationLive(lab)) throw new MakerdeckError('BAD_INPUT', `The station of ${lab.name} is running: stop it first`);
    return { id: await this.deps.store.remove(ref) };
  }

  async log(ref: string): Promise<LabLogEntry[]> {
    return (await this.deps.store.get(ref)).log;
  }

  async exportLog(ref: string, format: 'csv' | 'json'): Promise<LabLogExport> {
    const lab = await this.deps.store.get(ref);
    return exportLabLog(lab.name, lab.log, format);
  }

  private async view(lab: StoredLab): Promise<LabView> {
    const names = await this.profileNames();
    return {
      id: lab.id,
      name: lab.name,
      board: lab.board,
      template: templateName(lab, names),
      ...(lab.idPattern && { idPattern: lab.idPattern }),
      seatsFrom: lab.seatsFrom,
      seats: lab.seats.map((seat): LabSeatView => ({ ...seat })),
      createdAt: lab.createdAt,
      stationRunning: stationLive(lab),
    };
  }

  private async profileNames(): Promise<Map<string, string>> {
    return new Map((await this.deps.profiles.list()).map((p) => [p.id, p.name]));
  }
}

function templateName(lab: StoredLab, names: Map<string, string>): string {
  return names.get(lab.template) ?? '(deleted profile: pick another template)';
}
