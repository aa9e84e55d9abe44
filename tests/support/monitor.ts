// Reading a board's serial output through Makerdeck's own monitor.
import type { MonitorLine } from '../../electron/contract';
import type { Host } from '../../electron/core/host';
import { until } from './wait';

/** Opens the port in Makerdeck's monitor (which resets the board) and collects lines until `done`. */
export async function monitorUntil(
  host: Host,
  port: string,
  done: (lines: MonitorLine[]) => boolean,
  ms = 15_000,
): Promise<MonitorLine[]> {
  const lines: MonitorLine[] = [];
  const stop = host.bus.on('monitor.lines', (batch) => lines.push(...batch.lines));
  const reply = await host.call('monitor.open', { port, baudRate: 115200 });
  if (!reply.ok) throw new Error(reply.error.message);
  const { sessionId } = reply.value as { sessionId: string };
  try {
    await until('the lines the test waits for on the monitor', () => done(lines), ms);
  } finally {
    await host.call('monitor.close', { sessionId });
    stop();
  }
  return lines;
}
