// `makerdeck lab …`: classroom labs from the command line: create one, import its roster, see its
// seats and the station's log, export the log, reset it between classes, delete it. The station
// itself is `makerdeck lab station` (labStation.ts).
import { constants } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { MAX_ROSTER_BYTES, MakerdeckError, type LabSeatView, type LabView } from '../../contract';
import { callApi, runAction, stringOption, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';
import { LAB_STATION_OPTIONS, labStationAction } from './labStation';

/** The lab named by the second positional (`makerdeck lab status LAB`). */
function labOf(context: CommandContext, usage: string): string {
  const lab = context.positionals[1];
  if (!lab) throw new MakerdeckError('BAD_INPUT', `Name the lab: makerdeck lab ${usage} (makerdeck lab list)`);
  return lab;
}

function noMore(context: CommandContext, count: number, usage: string): void {
  if (context.positionals.length > count)
    throw new MakerdeckError('BAD_INPUT', `Too many arguments: makerdeck lab ${usage} (quote a name with spaces)`);
}

function printSeats(context: CommandContext, lab: LabView): void {
  const out = context.out;
  out.text(`${lab.name} (${lab.id}): ${lab.board}, template ${lab.template}, seats from ${lab.seatsFrom}`);
  if (lab.stationRunning) out.text('The station is running.');
  const width = (pick: (seat: LabSeatView) => string, min: number) =>
    Math.max(min, ...lab.seats.map((seat) => pick(seat).length));
  const seatW = width((s) => s.seat, 4);
  const studentW = width((s) => s.student ?? '', 7);
  const idW = width((s) => s.deviceId, 9);
  out.text(
    `${'SEAT'.padEnd(seatW)}  ${'STUDENT'.padEnd(studentW)}  ${'DEVICE ID'.padEnd(idW)}  ${'STATE'.padEnd(8)}  REASON`,
  );
  for (const s of lab.seats)
    out.text(
      `${s.seat.padEnd(seatW)}  ${(s.student ?? '').padEnd(studentW)}  ${s.deviceId.padEnd(idW)}  ` +
        `${s.state.padEnd(8)}  ${s.reason ?? ''}`.trimEnd(),
    );
}

/** Reads a roster file, refusing what cannot be one (a folder, a device, a big file) before reading it all. */
async function readRoster(file: string): Promise<string> {
  const cannot = (error: NodeJS.ErrnoException): never => {
    throw new MakerdeckError('BAD_INPUT', `Cannot read ${file} (${error.code ?? error.message}): give a CSV file`);
  };
  // O_NONBLOCK: a FIFO must not hang the open.
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch(cannot);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new MakerdeckError('BAD_INPUT', `${file} is not a file: give a roster CSV`);
    if (info.size > MAX_ROSTER_BYTES) throw tooLarge(file);
    const buffer = Buffer.alloc(MAX_ROSTER_BYTES + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read)
      ({ bytesRead: read } = await handle.read(buffer, length, buffer.length - length, length));
    if (length > MAX_ROSTER_BYTES) throw tooLarge(file);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
    } catch {
      throw new MakerdeckError('BAD_INPUT', `${file} is not UTF-8 text: save it as "CSV UTF-8" and import it again`);
    }
  } finally {
    await handle.close();
  }
}

function tooLarge(file: string): MakerdeckError {
  return new MakerdeckError('BAD_INPUT', `${file} is over ${MAX_ROSTER_BYTES / 1024} KB: that is not a class roster`);
}

/** The lab's name typed again: --confirm NAME for scripts, else a prompt on a terminal. */
async function confirmation(context: CommandContext, lab: LabView): Promise<string> {
  const given = stringOption(context.values, 'confirm');
  if (given !== undefined) return given;
  if (!process.stdin.isTTY)
    throw new MakerdeckError('BAD_INPUT', `A reset cannot be undone: add --confirm "${lab.name}" to confirm`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(
      `This deletes the broker logins of ${lab.seats.length} seats of ${lab.name}` +
        `${context.values['drop-data'] ? ' and their data' : ''}. Type the lab name to go on: `,
    );
  } finally {
    rl.close();
  }
}

const actions: Record<string, (context: CommandContext) => Promise<number>> = {
  async list(context) {
    noMore(context, 1, 'list');
    const labs = await callApi(context, 'lab.list', {});
    context.out.data(labs);
    if (labs.length === 0) context.out.text('No labs yet: makerdeck lab create NAME --board FQBN --template PROFILE');
    for (const lab of labs) {
      const counts = Object.entries(lab.counts)
        .filter(([, n]) => n > 0)
        .map(([state, n]) => `${n} ${state}`)
        .join(', ');
      const running = lab.stationRunning ? '  (station running)' : '';
      context.out.text(`${lab.id.padEnd(20)} ${lab.name.padEnd(20)} ${lab.board.padEnd(18)} ${counts}${running}`);
    }
    return EXIT.ok;
  },
  async create(context) {
    const usage = 'create NAME --board FQBN --template PROFILE [--id-pattern P] [--seats N]';
    const name = labOf(context, usage);
    noMore(context, 2, usage);
    const { values } = context;
    const seatsText = stringOption(values, 'seats');
    const seats = seatsText === undefined ? undefined : Number(seatsText);
    if (seats !== undefined && !Number.isInteger(seats))
      throw new MakerdeckError('BAD_INPUT', `--seats takes a whole number, not "${seatsText!.slice(0, 20)}"`);
    const board = stringOption(values, 'board');
    const template = stringOption(values, 'template');
    if (!board || !template)
      throw new MakerdeckError('BAD_INPUT', `Give the board and the template: makerdeck lab ${usage}`);
    const lab = await callApi(context, 'lab.create', {
      name,
      board,
      template,
      idPattern: stringOption(values, 'id-pattern'),
      seats,
    });
    context.out.data(lab);
    const ids = lab.seats.map((s) => s.deviceId);
    context.out.text(`Created ${lab.name} (${lab.id}): ${ids.length} seats, ${ids[0]} … ${ids.at(-1)}.`);
    context.out.text(
      `Next: makerdeck lab import-roster ${lab.id} FILE.csv (optional), then makerdeck lab station ${lab.id}`,
    );
    return EXIT.ok;
  },
  async 'import-roster'(context) {
    const lab = labOf(context, 'import-roster LAB FILE.csv');
    const file = context.positionals[2];
    if (!file) throw new MakerdeckError('BAD_INPUT', 'Name the roster: makerdeck lab import-roster LAB FILE.csv');
    noMore(context, 3, 'import-roster LAB FILE.csv');
    const view = await callApi(context, 'lab.importRoster', { lab, csv: await readRoster(file) });
    context.out.data(view);
    context.out.text(`${view.name} now has ${view.seats.length} seats from the roster:`);
    printSeats(context, view);
    return EXIT.ok;
  },
  async status(context) {
    const lab = labOf(context, 'status LAB');
    noMore(context, 2, 'status LAB');
    const view = await callApi(context, 'lab.get', { lab });
    context.out.data(view);
    printSeats(context, view);
    return EXIT.ok;
  },
  async log(context) {
    const lab = labOf(context, 'log LAB');
    noMore(context, 2, 'log LAB');
    const entries = await callApi(context, 'lab.log', { lab });
    context.out.data(entries);
    if (entries.length === 0) context.out.text('No board has been at the station yet.');
    for (const e of entries)
      context.out.text(
        `${e.time}  ${e.port}  ${e.deviceId}${e.student ? ` (${e.student})` : ''}  ${e.result} in ${e.seconds} s` +
          `${e.reason ? `: ${e.reason}` : ''}`,
      );
    return EXIT.ok;
  },
  async 'export-log'(context) {
    const lab = labOf(context, 'export-log LAB [--format csv|json] [--out FILE]');
    noMore(context, 2, 'export-log LAB [--format csv|json] [--out FILE]');
    const format = stringOption(context.values, 'format') ?? 'csv';
    if (format !== 'csv' && format !== 'json') throw new MakerdeckError('BAD_INPUT', '--format is csv or json');
    const exported = await callApi(context, 'lab.exportLog', { lab, format });
    const file = stringOption(context.values, 'out');
    if (!file) {
      // The file itself on stdout; --json wraps it with the lab and the entry count.
      if (context.out.json) context.out.data(exported);
      else process.stdout.write(exported.content);
      return EXIT.ok;
    }
    await writeFile(file, exported.content).catch((error: NodeJS.ErrnoException) => {
      throw new MakerdeckError('BAD_INPUT', `Cannot write ${file} (${error.code ?? error.message})`);
    });
    context.out.data({ lab: exported.lab, format, entries: exported.entries, file });
    context.out.text(`Wrote ${exported.entries} log entries of ${exported.lab} to ${file}.`);
    return EXIT.ok;
  },
  async reset(context) {
    const lab = await callApi(context, 'lab.get', { lab: labOf(context, 'reset LAB [--drop-data] [--confirm NAME]') });
    noMore(context, 2, 'reset LAB [--drop-data] [--confirm NAME]');
    const dropData = context.values['drop-data'] === true;
    const confirm = (await confirmation(context, lab)).slice(0, 64);
    const summary = await callApi(context, 'lab.reset', { lab: lab.id, confirm, dropData });
    context.out.data(summary);
    const users = summary.brokerUsers;
    context.out.text(`Reset ${summary.lab}: ${summary.seatsFreed} seat(s) free again.`);
    context.out.text(`  broker users deleted   ${users.length}${users.length ? `: ${users.join(', ')}` : ''}`);
    context.out.text(`  keychain entries       ${summary.keychainEntries} deleted`);
    context.out.text(`  data in InfluxDB       ${summary.data}`);
    context.out.text('  built images           kept (the next class flashes without compiling)');
    context.out.text(`  station log            kept (${summary.logKept} entries: makerdeck lab export-log ${lab.id})`);
    return EXIT.ok;
  },
  async delete(context) {
    const lab = labOf(context, 'delete LAB');
    noMore(context, 2, 'delete LAB');
    const result = await callApi(context, 'lab.delete', { lab });
    context.out.data(result);
    context.out.text(`Deleted lab ${result.id}. Logins its boards had stay: makerdeck device-login list|revoke`);
    return EXIT.ok;
  },
  station: (context) => labStationAction(context),
};

export const labCommand: Command = {
  name: 'lab',
  summary: 'Classroom labs: seats from an id pattern or a roster, the flash station, its log, reset between classes',
  usage: [
    'makerdeck lab list [--json]',
    '       makerdeck lab create NAME --board FQBN --template PROFILE [--id-pattern P] [--seats N] [--json]',
    '       makerdeck lab import-roster LAB FILE.csv [--json]     (columns: seat, student, device id)',
    '       makerdeck lab status|log|delete LAB [--json]',
    '       makerdeck lab export-log LAB [--format csv|json] [--out FILE]',
    '       makerdeck lab reset LAB [--drop-data] [--confirm NAME] [--json]',
    '       makerdeck lab station LAB [--parallel N] [--online-timeout S] [--boards N] [--json]   (Ctrl+C stops)',
  ].join('\n'),
  positionals: true,
  options: {
    board: { type: 'string', description: "create: every seat's board type (FQBN, e.g. arduino:avr:uno)" },
    template: { type: 'string', description: 'create: the profile whose Wi-Fi and broker settings every board gets' },
    'id-pattern': { type: 'string', description: 'create: seat ids, e.g. lab3-{nn} (default: the lab name-{nn})' },
    seats: { type: 'string', description: 'create: how many seats the pattern makes (default 30)' },
    format: { type: 'string', description: 'export-log: csv (default) or json' },
    out: { type: 'string', description: 'export-log: write to this file instead of stdout' },
    'drop-data': { type: 'boolean', description: "reset: also delete the lab's devices' points from InfluxDB" },
    confirm: { type: 'string', description: 'reset: the lab name, to confirm without a prompt (scripts)' },
    ...LAB_STATION_OPTIONS,
  },
  run: (context) => runAction(context, 'lab', actions, 'list'),
};
