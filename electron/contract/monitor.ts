// The serial monitor: a port's lines, batched, with the numbers a plotter can draw.
import { z } from 'zod';

export const BAUD_RATES = [
  300, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 74880, 115200, 230400, 250000, 460800, 500000, 921600, 1000000,
  2000000,
] as const;

export const MonitorOpenArgs = z
  .object({
    port: z.string().min(1, 'Pick a serial port').max(255),
    baudRate: z
      .number()
      .refine(
        (rate) => (BAUD_RATES as readonly number[]).includes(rate),
        `The baud rate must be one of ${BAUD_RATES.join(', ')}`,
      ),
  })
  .strict();
export const MonitorSessionArgs = z.object({ sessionId: z.string().min(1).max(64) }).strict();
export const MonitorSendArgs = z
  .object({
    sessionId: z.string().min(1).max(64),
    line: z.string().max(4096, 'A line to send must be at most 4096 characters'),
    ending: z.enum(['none', 'lf', 'crlf']).default('lf'),
  })
  .strict();

export interface MonitorLine {
  /** Milliseconds since the epoch, when the line ended. */
  t: number;
  text: string;
  /** Numbers found in the line (telemetry fields or name:value pairs), for the plotter. */
  values?: Record<string, number>;
}

export interface MonitorLines {
  sessionId: string;
  lines: MonitorLine[];
}

export interface MonitorState {
  sessionId: string;
  port: string;
  state: 'open' | 'closed';
  /** Why it closed, when it was not asked to. */
  reason?: string;
}
