// `makerdeck pack create|inspect|import`: lab packs for classrooms and field sites without internet.
import { randomUUID } from 'node:crypto';
import {
  MakerdeckError,
  type CliTarget,
  type PackImportSummary,
  type PackPlan,
  type PackProgress,
} from '../../contract';
import type { Host } from '../../core/host';
import { callApi, cancelOnInterrupt, runAction, stringOption, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';
import { stepLines } from '../progress';
import { SecretInput } from '../secretInput';

const USAGE = [
  'makerdeck pack create FILE [--core ID]… [--library NAME]… [--builds all|HASH,…] [--stack core|full]',
  '    [--profile REF]… [--cli-target T]… [--name N] [--dry-run] [--overwrite] [--json]',
  'makerdeck pack inspect FILE [--json]',
  'makerdeck pack import FILE [--json]',
  '',
  'create prints the plan (each part, its version and size) before writing; --dry-run stops there.',
  'Profiles are carried encrypted: the passphrase is asked for (twice; or read from two lines of',
  'stdin), never given on the command line. Lists may also be given comma-separated.',
  'import checks every checksum and says the space it needs before it changes anything, asks for the',
  'passphrase once when the pack carries profiles, and resumes where an interrupted import stopped.',
].join('\n');

/** Sizes for people: KiB under a MiB, else MiB with one decimal. */
export function formatBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Parts compressed while writing: the plan gives their uncompressed size, an upper bound. */
const COMPRESSED = new Set(['arduino-cli', 'library', 'images']);

function printPlan(context: CommandContext, plan: PackPlan): void {
  for (const part of plan.parts) {
    const size = `${COMPRESSED.has(part.kind) ? 'at most ' : ''}${formatBytes(part.bytes)}`;
    context.out.text(`${part.id.padEnd(34)} ${(part.version ?? '').padEnd(12)} ${size}`);
  }
  context.out.text(`${'total'.padEnd(34)} ${''.padEnd(12)} at most ${formatBytes(plan.bytes)}`);
  for (const problem of plan.problems) context.out.text(`problem: ${problem}`);
}

/** Every value of a repeatable option, each also split at commas. */
function listOption(values: CommandContext['values'], key: string): string[] {
  const raw = values[key];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  return list
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

function contentsFrom(values: CommandContext['values']) {
  const builds = listOption(values, 'builds');
  const stack = stringOption(values, 'stack');
  if (stack !== undefined && stack !== 'core' && stack !== 'full')
    throw new MakerdeckError('BAD_INPUT', '--stack is core or full');
  const targets = listOption(values, 'cli-target');
  return {
    cores: listOption(values, 'core'),
    libraries: listOption(values, 'library'),
    builds: builds.includes('all') ? ('all' as const) : builds,
    stack: stack as 'core' | 'full' | undefined,
    profiles: listOption(values, 'profile'),
    cliTargets: targets.length ? (targets as CliTarget[]) : undefined,
  };
}

/** The pack passphrase: typed twice when writing (a typo would lock the profiles away), once for a dry run. */
async function packPassphrase(confirm: boolean): Promise<string> {
  const input = new SecretInput();
  const passphrase = await input.read('Passphrase for the profiles in the pack');
  if (!confirm) return passphrase;
  if ((await input.read('same passphrase again')) !== passphrase)
    throw new MakerdeckError('BAD_INPUT', 'The two passphrases differ: no pack was written; type the same one twice');
  return passphrase;
}

/** One line per part as it is written; a bar (redrawn) for the final write on a terminal. */
function showPackProgress(host: Host, operationId: string, json: boolean): () => void {
  if (json) return () => {};
  const out = stepLines();
  const stop = host.bus.on('pack.progress', (p: PackProgress) => {
    if (p.operationId !== operationId) return;
    if (p.bytesTotal && !p.part)
      return out.bar(`writing ${formatBytes(p.bytesDone ?? 0)} of ${formatBytes(p.bytesTotal)}`.padEnd(60));
    if (p.bytesDone !== undefined) return;
    out.line(p.part ? `${p.part}${p.message ? `: ${p.message}` : ''}` : (p.message ?? p.phase));
  });
  return () => {
    stop();
    out.close();
  };
}

async function packCreate(context: CommandContext): Promise<number> {
  const file = context.positionals[1];
  if (!file) throw new MakerdeckError('BAD_INPUT', 'Name the pack file: makerdeck pack create FILE [--core ID]…');
  const dryRun = context.values['dry-run'] === true;
  const contents = contentsFrom(context.values);
  const passphrase = contents.profiles.length ? await packPassphrase(!dryRun) : undefined;
  const plan = await callApi(context, 'pack.plan', { ...contents, passphrase });
  printPlan(context, plan);
  if (dryRun || plan.problems.length) {
    context.out.data(plan);
    return plan.problems.length ? EXIT.usage : EXIT.ok;
  }
  const operationId = randomUUID();
  const hide = showPackProgress(context.host, operationId, context.out.json);
  const stopCancelling = cancelOnInterrupt(context, operationId);
  try {
    const summary = await callApi(context, 'pack.create', {
      ...contents,
      passphrase,
      operationId,
      file,
      overwrite: context.values.overwrite === true,
      name: stringOption(context.values, 'name'),
    });
    hide();
    context.out.data(summary);
    for (const part of summary.parts) context.out.text(`${part.id.padEnd(34)} ${formatBytes(part.bytes)}`);
    context.out.text(
      `Wrote ${summary.file}: ${formatBytes(summary.bytes)} in ${(summary.ms / 1000).toFixed(1)} s, sha256 ${summary.sha256}`,
    );
    return EXIT.ok;
  } finally {
    stopCancelling();
    hide();
  }
}

async function packInspect(context: CommandContext): Promise<number> {
  const file = context.positionals[1];
  if (!file) throw new MakerdeckError('BAD_INPUT', 'Name the pack file: makerdeck pack inspect FILE');
  const manifest = await callApi(context, 'pack.inspect', { file });
  context.out.data(manifest);
  context.out.text(`${manifest.name ?? 'Lab pack'} (id ${manifest.id}), made ${manifest.createdAt}`);
  context.out.text(
    `  by Makerdeck ${manifest.createdBy.makerdeck} on ${manifest.createdBy.platform}-${manifest.createdBy.arch}`,
  );
  for (const part of manifest.parts) {
    const installed = part.installedBytes ? `  (${formatBytes(part.installedBytes)} installed)` : '';
    context.out.text(
      `${part.id.padEnd(34)} ${(part.version ?? '').padEnd(12)} ${formatBytes(part.bytes).padStart(10)}  ${part.files.length} file(s)${installed}`,
    );
  }
  const total = manifest.parts.reduce((sum, p) => sum + p.bytes, 0);
  context.out.text(`${'total'.padEnd(34)} ${''.padEnd(12)} ${formatBytes(total).padStart(10)}`);
  return EXIT.ok;
}

/** Import progress on stderr: a redrawn bar for reading and extracting on a terminal, one line per step. */
function showImportProgress(host: Host, operationId: string, json: boolean): () => void {
  if (json) return () => {};
  const tty = process.stderr.isTTY === true;
  let open = false;
  let phase = '';
  const line = (text: string) => {
    process.stderr.write(`${open ? '\n' : ''}${text}\n`);
    open = false;
  };
  const stop = host.bus.on('pack.progress', (p: PackProgress) => {
    if (p.operationId !== operationId) return;
    if ((p.phase === 'verify' || p.phase === 'extract') && !p.message) {
      if (tty && p.bytesTotal) {
        const width = 24;
        const filled = Math.min(width, Math.round(((p.bytesDone ?? 0) / p.bytesTotal) * width));
        process.stderr.write(`\r${p.phase.padEnd(8)}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `);
        process.stderr.write(`${formatBytes(p.bytesDone ?? 0)}/${formatBytes(p.bytesTotal)}`.padEnd(30));
        open = true;
      } else if (phase !== p.phase) line(`${p.phase}…`);
      phase = p.phase;
      return;
    }
    phase = p.phase;
    if (p.phase === 'space')
      line(
        `Space needed: ${formatBytes(p.bytesDone ?? 0)} (${formatBytes(p.bytesTotal ?? 0)} free in the data folder)`,
      );
    else if (p.message) line(`${p.phase}: ${p.message}`);
  });
  return () => {
    stop();
    if (open) process.stderr.write('\n');
  };
}

function printImportSummary(context: CommandContext, summary: PackImportSummary): void {
  context.out.data(summary);
  for (const step of summary.steps)
    context.out.text(`${step.result.padEnd(8)} ${step.title}${step.detail ? ` (${step.detail})` : ''}`);
  const already = summary.steps.every((s) => s.result === 'already');
  context.out.text(
    `${already ? 'Already imported' : 'Imported'} pack ${summary.packId} in ${(summary.ms / 1000).toFixed(1)} s.` +
      (summary.arduinoCliConfig ? ` arduino-cli now uses ${summary.arduinoCliConfig}.` : ''),
  );
}

/** `makerdeck pack import FILE`. */
export async function packImport(context: CommandContext): Promise<number> {
  const file = context.positionals[1];
  if (!file || context.positionals.length > 2)
    throw new MakerdeckError('BAD_INPUT', 'Name one pack file: makerdeck pack import FILE.mdpack');
  const manifest = await callApi(context, 'pack.inspect', { file });
  const bytes = manifest.parts.reduce((sum, p) => sum + p.bytes, 0);
  const label = manifest.name ? `"${manifest.name}" (${manifest.id})` : manifest.id;
  if (!context.out.json)
    process.stderr.write(`Pack ${label}: ${manifest.parts.length} part(s), ${formatBytes(bytes)}\n`);
  const profiles = manifest.parts.filter((p) => p.kind === 'profiles').reduce((n, p) => n + p.files.length, 0);
  const passphrase = profiles > 0 ? await new SecretInput().read(`Passphrase of the pack's profiles`) : undefined;
  const operationId = randomUUID();
  const hide = showImportProgress(context.host, operationId, context.out.json);
  const stopCancelling = cancelOnInterrupt(context, operationId);
  try {
    printImportSummary(context, await callApi(context, 'pack.import', { operationId, file, passphrase }));
  } finally {
    stopCancelling();
    hide();
  }
  return EXIT.ok;
}

const actions: Record<string, (context: CommandContext) => Promise<number>> = {
  create: packCreate,
  inspect: packInspect,
  import: packImport,
};

export const packCommand: Command = {
  name: 'pack',
  summary: 'Lab packs: everything an offline classroom needs in one file (create, inspect, import)',
  usage: USAGE,
  positionals: true,
  options: {
    core: { type: 'string', multiple: true, description: 'create: an installed board core to carry (packager:arch)' },
    library: { type: 'string', multiple: true, description: 'create: an installed Arduino library to carry' },
    builds: { type: 'string', multiple: true, description: 'create: cached firmware builds: all, or build hashes' },
    stack: { type: 'string', description: "create: carry the stack's images (core or full)" },
    profile: { type: 'string', multiple: true, description: 'create: a profile to carry, encrypted' },
    'cli-target': {
      type: 'string',
      multiple: true,
      description: 'create: arduino-cli for this target (linux-x64, win32-x64, …; default: this computer)',
    },
    name: { type: 'string', description: 'create: a name for people (the class or the site)' },
    'dry-run': { type: 'boolean', description: 'create: print the plan, write nothing' },
    overwrite: { type: 'boolean', description: 'create: replace an existing file' },
  },
  run: (context) => runAction(context, 'pack', actions),
};
