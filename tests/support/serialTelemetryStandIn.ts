// A stand-in for the station's OnlineChecker (the real one reads the broker): it says 'online' only
// once it has itself read the board's `telemetry,device=<id>` line on the board's port, opened with
// Makerdeck's own serial code; no telemetry within the timeout is 'silent'.
import type { OnlineChecker, OnlineWait } from '../../electron/core/lab/onlineCheck';
import { closePort, openSerialPort } from '../../electron/core/serial/openPort';

/**
 * Stand-in for the real OnlineChecker (built elsewhere): opens the board's port with Makerdeck's own
 * serial code and says 'online' only once it has read the board's `telemetry,device=<id>` line there.
 */
export class SerialTelemetryStandIn implements OnlineChecker {
  /** The telemetry line each device id was seen with, and on which port. */
  readonly seen = new Map<string, { port: string; line: string }>();

  async wait({ deviceId, port, timeoutMs, signal, onWait }: OnlineWait): Promise<'online' | 'silent'> {
    const serial = await openSerialPort(port, 115200);
    onWait(`stand-in: reading ${port} for ${deviceId}'s telemetry`);
    try {
      return await new Promise<'online' | 'silent'>((resolve, reject) => {
        let partial = '';
        const timer = setTimeout(() => resolve('silent'), timeoutMs);
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        serial.on('error', reject);
        serial.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString('latin1')).split('\n');
          partial = lines.pop()!.slice(-4096);
          const line = lines.map((l) => l.trim()).find((l) => l.startsWith(`telemetry,device=${deviceId} `));
          if (!line) return;
          this.seen.set(deviceId, { port, line });
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve('online');
        });
      });
    } finally {
      await closePort(serial);
    }
  }

  async close(): Promise<void> {}
}
