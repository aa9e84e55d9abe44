// `makerdeck compile`, `makerdeck flash` and `makerdeck ports`.
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { bootCheckLine, FLASH_BOARDS, imageLocation, MAX_FIRMWARE_BYTES, MakerdeckError } from '../../contract';
import type { CompileSummary, FlashBoard, FlashSummary } from '../../contract';
import { uploadFirmware, type ContractCall } from '../../contract/firmwareUpload';
import { flashBoardFor } from '../../core/firmware/firmwareService';
import { callApi, cancelOnInterrupt, stringOption, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';
import { showProgress } from '../progress';

/** Runs a cancellable operation: Ctrl+C cancels it and the command exits 130. */
async function cancellable<T>(context: CommandContext, work: (operationId: string) => Promise<T>): Promise<T> {
  const operationId = randomUUID();
  const hideProgress = showProgress(context.host, operationId, context.out.json);
  const stopCancelling = cancelOnInterrupt(context, operationId);
  try {
    return await work(operationId);
  } finally {
    stopCancelling();
    hideProgress();
  }
}

function printCompile(context: CommandContext, summary: CompileSummary): void {
  for (const d of summary.diagnostics)
    context.out.text(`${d.file}:${d.line}${d.column ? `:${d.column}` : ''}: ${d.severity}: ${d.message}`);
  const flash = summary.sizes.find((s) => s.name === 'text');
  const size = flash ? `, ${flash.size} of ${flash.max} bytes of flash` : '';
  const how = summary.cached ? 'Build for' : 'Compiled for';
  const where = summary.cached ? ' from the build cache' : ` in ${(summary.ms / 1000).toFixed(1)} s`;
  context.out.text(
    summary.success
      ? `${how} ${summary.fqbn}${where} (build ${summary.buildHash})${size}.`
      : `The build failed${summary.error ? `: ${summary.error}` : ''}.`,
  );
  if (summary.image) context.out.text(`Image: ${imageLocation(summary.image)}`);
}

export const compileCommand: Command = {
  name: 'compile',
  summary: 'Build the firmware for a board, config-free (cached: the same build is never compiled twice)',
  usage: 'makerdeck compile --board FQBN | --profile NAME [--json]\n       makerdeck compile --list [--json]',
  options: {
    board: { type: 'string', description: 'board FQBN, e.g. arduino:avr:uno' },
    profile: { type: 'string', description: "build for this profile's board (its config is stamped at flash time)" },
    list: { type: 'boolean', description: 'list the cached builds (what a lab pack can carry), newest first' },
  },
  async run(context) {
    if (context.values.list === true) return listBuilds(context);
    const profile = stringOption(context.values, 'profile');
    const board =
      stringOption(context.values, 'board') ??
      (profile ? (await callApi(context, 'profiles.get', { ref: profile })).board : undefined);
    if (!board)
      throw new MakerdeckError('BAD_INPUT', 'Name the board: makerdeck compile --board FQBN (or --profile NAME)');
    const summary = await cancellable(context, (operationId) =>
      callApi(context, 'firmware.compile', { operationId, board }),
    );
    context.out.data(summary);
    printCompile(context, summary);
    return summary.success ? EXIT.ok : EXIT.failed;
  },
};

/** `makerdeck compile --list`: the build cache, one build a line, newest first. */
async function listBuilds(context: CommandContext): Promise<number> {
  const builds = await callApi(context, 'firmware.builds', {});
  context.out.data(builds);
  if (builds.length === 0) context.out.text('No cached builds: makerdeck compile --board FQBN makes one.');
  for (const b of builds) {
    const versions = [b.coreVersion && `core ${b.coreVersion}`, b.cliVersion && `arduino-cli ${b.cliVersion}`];
    const made = versions.filter(Boolean).join(', ');
    context.out.text(
      `${b.buildHash}  ${b.fqbn}  ${b.bytes} bytes .${b.format}  ${made ? `${made}  ` : ''}built ${b.builtAt}`,
    );
  }
  return EXIT.ok;
}

export const flashCommand: Command = {
  name: 'flash',
  summary:
    "Flash a .hex/.bin file as is, or a profile's release (cached build + its config, then a boot check); verify",
  usage: `makerdeck flash --port PATH --board ${FLASH_BOARDS.join('|')} FILE [--no-stub] [--json]\n       makerdeck flash --profile NAME --port PATH [--board B] [FILE] [--no-stub] [--json]   (FILE: a Makerdeck build to release instead of the cached one)`,
  positionals: true,
  options: {
    port: { type: 'string', description: 'serial port of the board (makerdeck ports lists them)' },
    board: { type: 'string', description: `${FLASH_BOARDS.join(', ')} (default with --profile: the profile's board)` },
    profile: { type: 'string', description: "flash the build with this profile's config stamped in (in memory)" },
    'no-stub': {
      type: 'boolean',
      description:
        "ESP32: flash with the ROM's own loader, without the flasher stub (slower; when the stub does not start)",
    },
  },
  async run(context) {
    const port = stringOption(context.values, 'port');
    if (!port) throw new MakerdeckError('BAD_INPUT', 'Name the port: --port /dev/ttyUSB0 (makerdeck ports lists them)');
    const profile = stringOption(context.values, 'profile');
    const file = context.positionals[0];
    if (context.positionals.length > 1 || (!profile && !file)) {
      throw new MakerdeckError(
        'BAD_INPUT',
        'Give one FILE (.hex or .bin), --profile NAME, or both to release that build (see makerdeck flash --help)',
      );
    }
    return flashAndReport(context, port, profile, file);
  },
};

export const releaseCommand: Command = {
  name: 'release',
  summary: 'Release the firmware to a board as a profile: cached build + its config, flash, verify, boot check',
  usage: 'makerdeck release --profile NAME --port PATH [--board B] [--no-stub] [--json]',
  options: {
    profile: {
      type: 'string',
      description: 'the profile whose device this board becomes (its config is stamped in memory)',
    },
    port: flashCommand.options.port!,
    board: { type: 'string', description: "the profile's board (default), or one of its flash boards" },
    'no-stub': flashCommand.options['no-stub']!,
  },
  async run(context) {
    const port = stringOption(context.values, 'port');
    if (!port) throw new MakerdeckError('BAD_INPUT', 'Name the port: --port /dev/ttyUSB0 (makerdeck ports lists them)');
    const profile = stringOption(context.values, 'profile');
    if (!profile) throw new MakerdeckError('BAD_INPUT', 'Name the profile: makerdeck release --profile NAME --port P');
    return flashAndReport(context, port, profile, undefined);
  },
};

/** `flash` and `release`: a file or a profile's release to the port, then what happened, in words. */
async function flashAndReport(
  context: CommandContext,
  port: string,
  profile: string | undefined,
  file: string | undefined,
): Promise<number> {
  await context.host.loadSecrets({ quiet: true });
  const board = stringOption(context.values, 'board') ?? (profile ? await profileBoard(context, profile) : undefined);
  if (!board) throw new MakerdeckError('BAD_INPUT', `Name the board: --board ${FLASH_BOARDS.join('|')}`);
  const uploaded = file ? { uploadId: await upload(context, file) } : undefined;
  const source = profile ? { profile, ...uploaded } : uploaded!;
  const noStub = context.values['no-stub'] === true ? { noStub: true } : {};
  const summary = await cancellable(context, (operationId) =>
    callApi(context, 'firmware.flash', { operationId, port, board: board as FlashBoard, source, ...noStub }),
  );
  context.out.data(summary);
  printFlash(context, summary);
  return EXIT.ok;
}

function printFlash(context: CommandContext, summary: FlashSummary): void {
  const by = summary.loader === 'rom' ? " by the ROM's loader" : '';
  const { release, boot } = summary;
  const build = release?.file
    ? `from ${release.file}`
    : `build ${release?.buildHash}${release?.cached ? ', cached' : ''}`;
  const as = release ? ` as ${release.deviceId} (${build})` : '';
  context.out.text(
    `Flashed and verified ${summary.bytes} bytes on ${summary.port}${as}${by} in ${(summary.ms / 1000).toFixed(1)} s.`,
  );
  if (release?.brokerUser)
    context.out.text(
      release.brokerNotice
        ? `Broker login: ${release.brokerNotice}.`
        : `Broker login: ${release.brokerUser} is set up on the local stack.`,
    );
  if (boot) context.out.text(bootCheckLine(boot));
}

async function profileBoard(context: CommandContext, profile: string): Promise<string | undefined> {
  return flashBoardFor((await callApi(context, 'profiles.get', { ref: profile })).board);
}

/** Sends the file through the contract's chunked upload, as the pages do; resolves with the upload id. */
async function upload(context: CommandContext, file: string): Promise<string> {
  const call = ((name, args) => callApi(context, name, args)) as ContractCall;
  return (await uploadFirmware(call, path.basename(file), await readImageFile(file))).uploadId;
}

async function readImageFile(file: string): Promise<Buffer> {
  try {
    if ((await stat(file)).size > MAX_FIRMWARE_BYTES) {
      throw new MakerdeckError('BAD_INPUT', `${file} is larger than 16 MiB: that is no firmware image for a board`);
    }
    return await readFile(file);
  } catch (error) {
    if (error instanceof MakerdeckError) throw error;
    throw new MakerdeckError(
      'NOT_FOUND',
      `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
}

export const portsCommand: Command = {
  name: 'ports',
  summary: 'List serial ports and the board or adapter behind each',
  usage: 'makerdeck ports [--json]',
  options: {},
  async run(context) {
    const ports = await callApi(context, 'serial.list', {});
    context.out.data(ports);
    if (ports.length === 0) context.out.text('No serial ports: plug the board in with a data USB cable.');
    for (const p of ports) {
      const ids = p.vendorId ? ` USB ${p.vendorId}:${p.productId}` : '';
      context.out.text(
        `${p.path.padEnd(16)} ${p.board?.label ?? p.manufacturer ?? 'unknown device'}${ids}${p.canOpen === false ? ' (no permission)' : ''}`,
      );
    }
    return EXIT.ok;
  },
};
