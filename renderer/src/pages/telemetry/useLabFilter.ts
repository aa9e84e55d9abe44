// The Telemetry page's filter by lab: the labs there are, and the chosen lab's seats (its boards).
import { useEffect, useState } from 'react';
import type { LabSeatView, LabSummary } from '../../../../electron/contract/lab';
import { api } from '../../api/client';

export interface LabFilter {
  labs: LabSummary[];
  /** The chosen lab's id, '' for every device. */
  lab: string;
  setLab(id: string): void;
  /** The chosen lab's seats (undefined while none is chosen or it is being read). */
  seats?: LabSeatView[];
  error?: string;
}

/** Lists the labs once; reads the chosen lab's seats when it changes. */
export function useLabFilter(): LabFilter {
  const [labs, setLabs] = useState<LabSummary[]>([]);
  const [lab, setLab] = useState('');
  const [seats, setSeats] = useState<LabSeatView[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api()
      .call('lab.list', {})
      .then(setLabs, (e: Error) => setError(e.message));
  }, []);
  useEffect(() => {
    setSeats(undefined);
    if (!lab) return;
    let live = true;
    api()
      .call('lab.get', { lab })
      .then(
        (view) => live && setSeats(view.seats),
        (e: Error) => live && setError(e.message),
      );
    return () => {
      live = false;
    };
  }, [lab]);
  return { labs, lab, setLab, seats, error };
}
