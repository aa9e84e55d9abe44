// The flash station of a lab (being built: see the lab issue). Watches the serial ports, gives each
// board plugged in its seat's id, releases and flashes it, and waits for its first telemetry.
import { MakerdeckError, type ParsedArgsOf, type StationView } from '../../contract';
import type { LabStore } from './labStore';

export interface StationDeps {
  store: LabStore;
  emit(view: StationView): void;
}

export class Station {
  constructor(readonly deps: StationDeps) {}

  start(_args: ParsedArgsOf<'lab.stationStart'>): Promise<StationView> {
    return Promise.reject(notYet());
  }

  stop(_lab: string): Promise<StationView> {
    return Promise.reject(notYet());
  }

  status(_lab: string): Promise<StationView> {
    return Promise.reject(notYet());
  }

  retry(_lab: string, _deviceId: string): Promise<StationView> {
    return Promise.reject(notYet());
  }
}

function notYet(): MakerdeckError {
  return new MakerdeckError('UNAVAILABLE', 'The flash station is not built yet');
}
