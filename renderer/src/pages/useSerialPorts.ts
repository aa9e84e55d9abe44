// The serial ports, kept current on plug and unplug: one shared hook for every page with a port field
// (Firmware, Monitor), so no page lists the ports on its own. It holds the host's port watch
// (serial.watch) while mounted, renewing the lease, and takes the serial.ports events.
import { useEffect, useState } from 'react';
import type { SerialPortView } from '../../../electron/contract/firmware';
import { api } from '../api/client';

/** The detected ports (undefined until the first answer) and the last error, if listing failed. */
export function useSerialPorts(): { ports?: SerialPortView[]; error?: string } {
  const [ports, setPorts] = useState<SerialPortView[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const watch = () =>
      api()
        .call('serial.watch', {})
        .then(
          ({ ports: now, leaseMs }) => {
            if (!live) return;
            setPorts(now);
            setError(undefined);
            timer = setTimeout(watch, leaseMs / 3);
          },
          (e: Error) => {
            if (!live) return;
            setError(e.message);
            timer = setTimeout(watch, 5000);
          },
        );
    const stop = api().on('serial.ports', (now) => live && setPorts(now));
    void watch();
    return () => {
      live = false;
      clearTimeout(timer);
      stop();
    };
  }, []);
  return { ports, error };
}
