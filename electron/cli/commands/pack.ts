// `makerdeck pack …`: lab packs. `pack import FILE` says the pack's parts, then the space the import
// needs (before anything changes), its progress, and what each step did; the passphrase of the
// pack's profiles is read once (hidden prompt or stdin), never from argv.
import { randomUUID } from 'node:crypto';
import { MakerdeckError, type PackImportSummary, type PackProgress } from '../../contract';
import type { Host } from '../../core/host';
import { callApi, cancelOnInterrupt, runAction, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';
import { SecretInput } from '../secretInput';

const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

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
        process.stderr.write(`${mb(p.bytesDone ?? 0)}/${mb(p.bytesTotal)}`.padEnd(30));
        open = true;
      } else if (phase !== p.phase) line(`${p.phase}…`);
      phase = p.phase;
      return;
    }
    phase = p.phase;
    if (p.phase === 'space')
      line(`Space needed: ${mb(p.bytesDone ?? 0)} (${mb(p.bytesTotal ?? 0)} free in the data folder)`);
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
  if (!context.out.json) process.stderr.write(`Pack ${label}: ${manifest.parts.length} part(s), ${mb(bytes)}\n`);
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

export const packCommand: Command = {
  name: 'pack',
  summary: 'Lab packs: everything an offline classroom needs in one file',
  usage: ['makerdeck pack import FILE [--json]   verify, say the space needed, then install (resumes)'].join('\n'),
  positionals: true,
  options: {},
  run: (context) => runAction(context, 'pack', { import: packImport }),
};
