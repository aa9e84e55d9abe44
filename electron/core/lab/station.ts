// The flash stations of this host's labs: start, stop, status and retry per lab, state in the lab's
// file (station.running survives a restart: resume() starts those stations again), and the whole
// station view emitted as lab.station events, at most 10 per second per lab.
import { MakerdeckError, type FirmwareProgress, type ParsedArgsOf, type StationView } from '../../contract';
import { LabStation, type LabStationDeps } from './labStation';

export interface StationDeps extends Omit<LabStationDeps, 'watch'> {
  /** Subscribes to firmware.progress; returns the undo. */
  onProgress(listener: (progress: FirmwareProgress) => void): () => void;
}

export class Station {
  private readonly stations = new Map<string, LabStation>();
  private readonly watchers = new Map<string, (progress: FirmwareProgress) => void>();
  private unsubscribe?: () => void;

  constructor(readonly deps: StationDeps) {}

  async start(args: ParsedArgsOf<'lab.stationStart'>): Promise<StationView> {
    const lab = await this.deps.store.get(args.lab);
    // One station at a time: each takes every board plugged in, so two would fight over them.
    const other = [...this.stations.values()].find((s) => s.running && s.lab.id !== lab.id);
    if (other)
      throw new MakerdeckError(
        'BAD_INPUT',
        `The station of lab ${other.lab.name} is running: stop it first (one station takes every board plugged in)`,
      );
    const settings = { parallel: args.parallel, onlineTimeoutS: args.onlineTimeoutS };
    await this.deps.store.setStation(lab.id, { running: true, ...settings, startedAt: new Date().toISOString() });
    const running = this.stations.get(lab.id);
    if (running?.running) {
      running.configure(settings);
      return running.view();
    }
    this.unsubscribe ??= this.deps.onProgress((p) => this.watchers.get(p.operationId)?.(p));
    const station = new LabStation(lab, { ...this.deps, watch: (id, listener) => this.watch(id, listener) }, settings);
    this.stations.set(lab.id, station);
    try {
      await station.start();
    } catch (error) {
      station.stop(); // e.g. the port list cannot be read: nothing half-started stays behind
      this.stations.delete(lab.id);
      await this.deps.store.setStation(lab.id, { running: false });
      throw error;
    }
    return station.view();
  }

  async stop(ref: string): Promise<StationView> {
    const lab = await this.deps.store.get(ref);
    await this.deps.store.setStation(lab.id, { running: false });
    const station = this.stations.get(lab.id);
    station?.stop();
    return station?.view() ?? idle(lab.id, lab.station.parallel);
  }

  async status(ref: string): Promise<StationView> {
    const lab = await this.deps.store.get(ref);
    return this.stations.get(lab.id)?.view() ?? idle(lab.id, lab.station.parallel);
  }

  async retry(ref: string, deviceId: string): Promise<StationView> {
    const lab = await this.deps.store.get(ref);
    const seat = lab.seats.find((s) => s.deviceId === deviceId);
    if (!seat) throw new MakerdeckError('NOT_FOUND', `Lab ${lab.name} has no seat with device id ${deviceId}`);
    const station = this.stations.get(lab.id);
    if (!station?.running)
      throw new MakerdeckError('BAD_INPUT', `The station of lab ${lab.name} is not running: start it first`);
    station.retry(deviceId, seat.identity?.key);
    return station.view();
  }

  /**
   * Starts again the station that was running when Makerdeck last stopped (long-running hosts). Only
   * one runs at a time: should several labs say so, the one changed last resumes, the others stop.
   */
  async resume(): Promise<StationView[]> {
    const labs = (await this.deps.store.list()).filter((lab) => lab.station.running);
    const [last, ...others] = labs.sort((a, b) => (b.station.startedAt ?? '').localeCompare(a.station.startedAt ?? ''));
    for (const lab of others) await this.deps.store.setStation(lab.id, { running: false });
    if (!last) return [];
    const { parallel, onlineTimeoutS } = last.station;
    return [await this.start({ lab: last.id, parallel, onlineTimeoutS })];
  }

  /** The host is closing: polling ends and every go is abandoned; station.running stays as it was. */
  shutdown(): void {
    for (const station of this.stations.values()) station.shutdown();
    this.stations.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private watch(operationId: string, listener: (progress: FirmwareProgress) => void): () => void {
    this.watchers.set(operationId, listener);
    return () => this.watchers.delete(operationId);
  }
}

function idle(lab: string, parallel: number): StationView {
  return { lab, running: false, parallel, ports: [], notices: [] };
}
