// `makerdeck telemetry tail`: parsed points as they arrive from the broker (and a board on USB).
import { isoTime, MakerdeckError, type TelemetryBatch, type TelemetryState } from '../../contract';
import { callApi, runAction, stringOption, untilInterrupted, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';

interface PrintedPoint {
  time: string;
  t: number;
  device: string;
  fields: Record<string, number>;
}

/**
 * Batches are per series; a person reads points: a device's fields at one time, together. Points
 * of one device that share a millisecond stay apart: the k-th value at a time in each series goes
 * with the k-th point at that time.
 */
export function pointsOf(batch: TelemetryBatch, device?: string): PrintedPoint[] {
  type Gathered = { t: number; device: string; fields: Map<string, number> };
  const points = new Map<string, Gathered[]>();
  for (const series of batch.series) {
    if (device && series.device !== device) continue;
    let previous = NaN;
    let k = 0;
    series.t.forEach((t, i) => {
      k = t === previous ? k + 1 : 0;
      previous = t;
      const id = `${series.device}\u0000${t}`;
      let atTime = points.get(id);
      if (!atTime) points.set(id, (atTime = []));
      const point = (atTime[k] ??= { t, device: series.device, fields: new Map() });
      point.fields.set(series.field, series.v[i]!);
    });
  }
  // fromEntries defines own properties: a field named "__proto__" is printed like any other.
  const sorted = [...points.values()].flat().sort((a, b) => a.t - b.t);
  return sorted.map(({ t, device, fields }) => ({ time: isoTime(t), t, device, fields: Object.fromEntries(fields) }));
}

interface PrintedReject {
  type: 'rejected';
  time: string;
  topic: string;
  reason: string;
  sample: string;
}

/** The batch's rejected payloads, for `device` only when given (its topics). */
export function rejectsOf(batch: TelemetryBatch, device?: string): PrintedReject[] {
  return (batch.rejects ?? [])
    .filter((reject) => !device || reject.topic.startsWith(`makerdeck/${device}/`))
    .map(({ t, topic, reason, sample }) => ({ type: 'rejected', time: isoTime(t), topic, reason, sample }));
}

/** Prints the batch's rejects; without a device filter, also how many went unlisted in a flood. */
function printRejects(context: CommandContext, batch: TelemetryBatch, unlisted: number, device?: string): void {
  for (const reject of rejectsOf(batch, device)) {
    if (context.out.json) context.out.data(reject);
    else context.out.text(`${reject.time}  rejected  ${reject.topic}: ${reject.reason}  (${reject.sample})`);
  }
  if (device || unlisted <= 0) return;
  if (context.out.json) context.out.data({ type: 'rejected', unlisted });
  else context.out.text(`${unlisted} more payloads rejected (at most 20 are listed per 50 ms)`);
}

/** Resolves never; rejects when the broker refuses the login (retrying cannot fix a wrong password). */
function loginRefused(context: CommandContext): { refused: Promise<never>; stop: () => void } {
  let stop = () => {};
  const refused = new Promise<never>((_resolve, reject) => {
    stop = context.host.bus.on('telemetry.state', ({ broker }: TelemetryState) => {
      if (!broker.loginRefused) return;
      const message = (broker.message ?? 'The broker refused the login').replace(/ — retrying in \d+ s$/, '');
      reject(new MakerdeckError('UNAVAILABLE', message));
    });
  });
  refused.catch(() => undefined); // handled by the race in tail; never an unhandled rejection
  return { refused, stop };
}

async function tail(context: CommandContext): Promise<number> {
  const device = stringOption(context.values, 'device');
  const protocol = stringOption(context.values, 'protocol') ?? '3.1.1';
  if (protocol !== '3.1.1' && protocol !== '5') throw new MakerdeckError('BAD_INPUT', '--protocol is 3.1.1 or 5');
  const { bus, redactor } = context.host;
  let rejectedBefore = 0;
  const stopPoints = bus.on('telemetry.batch', (batch) => {
    const unlisted = batch.rejected - rejectedBefore - (batch.rejects?.length ?? 0);
    rejectedBefore = batch.rejected;
    printRejects(context, batch, unlisted, device);
    for (const point of pointsOf(batch, device)) {
      if (context.out.json) context.out.data(point);
      else
        context.out.text(
          `${point.time}  ${point.device}  ${Object.entries(point.fields)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        );
    }
  });
  const stopState = bus.on('telemetry.state', ({ broker }) => {
    if (broker.loginRefused) return; // said once, as the command's error
    const said = `broker ${broker.url ?? ''}: ${broker.state}${broker.message ? ` — ${broker.message}` : ''}`;
    process.stderr.write(redactor.redact(said) + '\n');
  });
  const login = loginRefused(context);
  // Ctrl+C is ours from here: the broker may say "connected" before the connect request returns.
  const interrupted = untilInterrupted();
  try {
    await callApi(context, 'telemetry.connect', { protocolVersion: protocol === '5' ? 5 : 4 });
    const serial = stringOption(context.values, 'serial');
    if (serial) await callApi(context, 'telemetry.gatewayStart', { port: serial, baudRate: 115200 });
    await Promise.race([interrupted, login.refused]);
    return EXIT.ok;
  } finally {
    login.stop();
    stopPoints();
    stopState();
    await callApi(context, 'telemetry.gatewayStop', {}).catch(() => undefined);
    await callApi(context, 'telemetry.disconnect', {}).catch(() => undefined);
  }
}

export const telemetryCommand: Command = {
  name: 'telemetry',
  summary: 'Live telemetry: print parsed points as they arrive',
  usage: 'makerdeck telemetry tail [--device D] [--serial PORT] [--protocol 3.1.1|5] [--json]',
  positionals: true,
  options: {
    device: { type: 'string', description: 'only this device' },
    serial: {
      type: 'string',
      description: 'also read a board on this USB serial port (115200 baud) and publish its telemetry',
    },
    protocol: { type: 'string', description: 'MQTT version: 3.1.1 (default) or 5' },
  },
  run: (context) => runAction(context, 'telemetry', { tail }),
};
