// What a doctor check is: an id, a title, a time budget and a probe that reports its outcome.
import type { CheckId, DoctorCheck } from '../../contract';
import type { ArduinoCliSearch } from '../firmware/arduinoCli';
import type { RawPortLister } from '../serial/ports';

export type CheckOutcome = Omit<DoctorCheck, 'id' | 'title' | 'durationMs'>;

export interface DoctorContext {
  env: NodeJS.ProcessEnv;
  arduinoCli: ArduinoCliSearch;
  /** Where Makerdeck keeps its data; used for the disk check when Docker's root is unknown. */
  dataDir: string;
  /** Replaces serialport's list (tests only). */
  listPorts?: RawPortLister;
}

export interface Check {
  id: CheckId;
  title: string;
  /** The probe gets this long before the runner reports it as hung; probes keep their own shorter limits. */
  budgetMs: number;
  run(context: DoctorContext, signal: AbortSignal): Promise<CheckOutcome>;
}
