// The station of one lab as the page shows it: its status when the lab is opened, then every
// lab.station event for it (the host sends at most 10 a second).
import { useEffect, useState } from 'react';
import type { StationView } from '../../../../electron/contract/lab';
import { api } from '../../api/client';

/** The lab's station view (undefined until known) and why its status could not be read. */
export function useStation(lab: { id: string; name: string }): {
  station?: StationView;
  statusError?: string;
  setStation(view: StationView): void;
} {
  const [station, setStation] = useState<StationView>();
  const [statusError, setStatusError] = useState<string>();
  const { id, name } = lab;
  useEffect(() => {
    let live = true;
    setStation(undefined);
    setStatusError(undefined);
    const off = api().on('lab.station', (view) => {
      if (!live || (view.lab !== id && view.lab !== name)) return;
      setStation(view);
      setStatusError(undefined);
    });
    api()
      .call('lab.stationStatus', { lab: id })
      .then(
        (view) => live && setStation(view),
        (e: Error) => live && setStatusError(e.message),
      );
    return () => {
      live = false;
      off();
    };
  }, [id, name]);
  return { station, statusError, setStation };
}
