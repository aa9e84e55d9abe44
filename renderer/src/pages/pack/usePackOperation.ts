// One pack operation at a time from a page: its operation id, its phases from pack.progress, cancel.
import { useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import { finishPackTrack, startPackTrack, trackPackProgress, type PackPhase, type PackTrack } from './packTrack';

export interface PackOperation {
  busy: boolean;
  /** The phases of the running or last operation. */
  track?: PackTrack;
  /** Runs `work` with a fresh operation id; the track ends done or failed with it. */
  run<T>(phases: PackPhase[], work: (operationId: string) => Promise<T>): Promise<T>;
  cancel(): void;
  clear(): void;
}

/** Follows pack.progress for the operation it runs (a ref, so no event between two renders is missed). */
export function usePackOperation(): PackOperation {
  const current = useRef<string>(undefined);
  const [busy, setBusy] = useState(false);
  const [track, setTrack] = useState<PackTrack>();
  useEffect(
    () =>
      api().on('pack.progress', (p) => {
        if (p.operationId === current.current) setTrack((t) => t && trackPackProgress(t, p));
      }),
    [],
  );
  const run = async <T>(phases: PackPhase[], work: (operationId: string) => Promise<T>) => {
    const id = crypto.randomUUID();
    current.current = id;
    setBusy(true);
    setTrack(startPackTrack(phases));
    try {
      const result = await work(id);
      setTrack((t) => t && finishPackTrack(t, 'done'));
      return result;
    } catch (e) {
      setTrack((t) => t && finishPackTrack(t, 'failed'));
      throw e;
    } finally {
      current.current = undefined;
      setBusy(false);
    }
  };
  const cancel = () => {
    if (current.current) void api().call('operations.cancel', { operationId: current.current });
  };
  return { busy, track, run, cancel, clear: () => setTrack(undefined) };
}
