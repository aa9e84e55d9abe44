// `makerdeck lab station LAB`: runs a lab's flash station in this terminal, one line per phase change
// per port, until Ctrl+C, or with --boards N until N boards have a result. Exit 0 when every board
// came online, 1 otherwise. Registered by the `lab` command (lab.ts) as its `station` action.
import { MakerdeckError, type StationPortView, type StationView } from '../../contract';
import { callApi, stringOption, type CommandContext, type OptionSpec } from '../command';
import { EXIT } from '../output';

/** The options `lab station` takes, for the `lab` command's table. */
export const LAB_STATION_OPTIONS: Record<string, OptionSpec> = {
  parallel: { type: 'string', description: 'lab station: boards flashed at once (1-8, default 4)' },
  'online-timeout': {
    type: 'string',
    description: 'lab station: seconds a flashed board has to send its first telemetry (default 60)',
  },
  boards: { type: 'string', description: 'lab station: stop once this many boards have a result' },
};

const RESULTS = new Set(['online', 'silent', 'failed', 'unplugged']);

/** Runs the station of the lab named by the second positional (`lab station LAB`). */
export async function labStationAction(context: CommandContext): Promise<number> {
  const lab = context.positionals[1];
  if (!lab || context.positionals.length > 2)
    throw new MakerdeckError('BAD_INPUT', 'Name the lab: makerdeck lab station LAB [--parallel N] [--boards N]');
  const boards = wholeNumber(context, 'boards', 1, 1000);
  const started = await callApi(context, 'lab.stationStart', {
    lab,
    parallel: wholeNumber(context, 'parallel', 1, 8) ?? 4,
    onlineTimeoutS: wholeNumber(context, 'online-timeout', 5, 600) ?? 60,
  });
  context.out.text(
    `Station of ${started.lab} running (${started.parallel} at once): plug the boards in. Ctrl+C stops.`,
  );
  const results = await follow(context, started, boards);
  await callApi(context, 'lab.stationStop', { lab: started.lab });
  const online = results.filter((phase) => phase === 'online').length;
  context.out.text(`${online} of ${results.length} boards online.`);
  return results.length > 0 && online === results.length ? EXIT.ok : EXIT.failed;
}

/** Prints each port's phase changes until Ctrl+C or `boards` results; returns the results seen. */
function follow(context: CommandContext, first: StationView, boards: number | undefined): Promise<string[]> {
  const shown = new Map<string, string>();
  const results: string[] = [];
  return new Promise((resolve) => {
    const done = () => {
      unsubscribe();
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(results);
    };
    const onView = (view: StationView) => {
      if (view.lab !== first.lab) return;
      for (const port of view.ports) {
        const key = `${port.phase}|${port.startedAt}`;
        if (shown.get(port.port) === key) continue;
        shown.set(port.port, key);
        context.out.data({ type: 'port', ...port });
        context.out.text(portLine(port));
        if (RESULTS.has(port.phase)) results.push(port.phase);
      }
      if (boards !== undefined && results.length >= boards) done();
    };
    const unsubscribe = context.host.bus.on('lab.station', onView);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    onView(first);
  });
}

/** "ttyACM0  lab3-01 (Ada)  write  12288/30720 B": one line per phase change. */
export function portLine(port: StationPortView): string {
  const who = port.deviceId ? `${port.deviceId}${port.student ? ` (${port.student})` : ''}` : '-';
  const bytes = port.bytesTotal ? `  ${port.bytesDone ?? 0}/${port.bytesTotal} B` : '';
  const why = port.reason ?? port.message;
  return `${port.port}  ${who}  ${port.phase}${bytes}${why ? `  ${why}` : ''}`;
}

function wholeNumber(context: CommandContext, key: string, min: number, max: number): number | undefined {
  const text = stringOption(context.values, key);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new MakerdeckError('BAD_INPUT', `--${key} must be a whole number from ${min} to ${max}`);
  return value;
}
