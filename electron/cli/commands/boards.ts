// `makerdeck boards list|install|remove|index`: arduino-cli board cores, online or from a folder.
import { randomUUID } from 'node:crypto';
import { MakerdeckError, type BoardsIndexSummary, type BoardsProgress } from '../../contract';
import type { Host } from '../../core/host';
import { callApi, cancelOnInterrupt, runAction, stringOption, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';
import { stepLines } from '../progress';

/** Download bars on a terminal (one line per archive, redrawn), one line per step otherwise; nothing with --json. */
function showBoardsProgress(host: Host, operationId: string, json: boolean): () => void {
  if (json) return () => {};
  const out = stepLines();
  const stop = host.bus.on('boards.progress', (p: BoardsProgress) => {
    if (p.operationId !== operationId) return;
    if (p.phase === 'download' && p.bytesTotal) return out.bar(downloadBar(p));
    out.line(`${p.item ? `${p.item}: ` : ''}${p.message ?? p.phase}`);
  });
  return () => {
    stop();
    out.close();
  };
}

/** `esp32:esp32@3.0.7 [#####.....] 12.0/36.1 MiB`, padded so a shorter redraw leaves nothing behind. */
export function downloadBar(p: BoardsProgress): string {
  const done = p.bytesDone ?? 0;
  const total = p.bytesTotal ?? 0;
  const width = 24;
  const filled = total ? Math.min(width, Math.round((done / total) * width)) : 0;
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  return `${p.item ?? ''} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${mib(done)}/${mib(total)} MiB`.padEnd(
    90,
  );
}

async function withProgress<T>(context: CommandContext, work: (operationId: string) => Promise<T>): Promise<T> {
  const operationId = randomUUID();
  const hide = showBoardsProgress(context.host, operationId, context.out.json);
  const stopCancelling = cancelOnInterrupt(context, operationId);
  try {
    return await work(operationId);
  } finally {
    stopCancelling();
    hide();
  }
}

function printIndex(context: CommandContext, summary: BoardsIndexSummary): void {
  for (const index of summary.updated) context.out.text(`updated ${index}`);
  for (const { index, error } of summary.failed) context.out.text(`could not update ${index}: ${error}`);
}

const actions: Record<string, (context: CommandContext) => Promise<number>> = {
  async list(context) {
    const cores = await callApi(context, 'boards.list', { all: context.values.all === true });
    context.out.data(cores);
    if (cores.length === 0)
      context.out.text('No board cores installed: makerdeck boards install esp32:esp32 (or --from FOLDER offline)');
    for (const core of cores) {
      const version = core.installed ? core.installed : `not installed, ${core.latest ?? '?'} available`;
      const update =
        core.installed && core.latest && core.latest !== core.installed ? ` (${core.latest} available)` : '';
      context.out.text(`${core.id.padEnd(24)} ${version}${update}  ${core.name}`);
    }
    return EXIT.ok;
  },
  async install(context) {
    const from = stringOption(context.values, 'from');
    const spec = context.positionals[1];
    if (context.positionals.length > 2 || (!from && !spec))
      throw new MakerdeckError(
        'BAD_INPUT',
        'Name one core (makerdeck boards install esp32:esp32[@3.0.7]) or a folder (--from PATH [--core ID])',
      );
    const summary = await withProgress(context, (operationId) => {
      if (from)
        return callApi(context, 'boards.installFrom', {
          operationId,
          path: from,
          core: spec ?? stringOption(context.values, 'core'),
        });
      const [core, version] = spec!.split('@');
      return callApi(context, 'boards.install', { operationId, core: core!, version: version || undefined });
    });
    context.out.data(summary);
    const mib = (summary.downloadedBytes / 1024 / 1024).toFixed(1);
    context.out.text(
      `Installed ${summary.installed.join(', ')} in ${(summary.ms / 1000).toFixed(1)} s (${mib} MiB downloaded).`,
    );
    return EXIT.ok;
  },
  async remove(context) {
    const core = context.positionals[1];
    if (!core) throw new MakerdeckError('BAD_INPUT', 'Name the core: makerdeck boards remove esp32:esp32');
    const result = await callApi(context, 'boards.remove', { core });
    context.out.data(result);
    context.out.text(`Removed ${result.removed}.`);
    return EXIT.ok;
  },
  async index(context) {
    const url = stringOption(context.values, 'add');
    const summary = url
      ? await callApi(context, 'boards.addIndex', { url })
      : await callApi(context, 'boards.updateIndex', {});
    context.out.data(summary);
    if (url) context.out.text(`Added ${url}.`);
    printIndex(context, summary);
    return EXIT.ok;
  },
};

export const boardsCommand: Command = {
  name: 'boards',
  summary: 'Board cores (arduino-cli platforms): list, install online or from a folder, remove, update the index',
  usage: [
    'makerdeck boards list [--all] [--json]',
    '       makerdeck boards install CORE[@VERSION] [--json]        e.g. esp32:esp32',
    '       makerdeck boards install --from FOLDER|ARCHIVE [--core CORE] [--json]',
    '       makerdeck boards remove CORE [--json]',
    '       makerdeck boards index [--add URL] [--json]',
  ].join('\n'),
  positionals: true,
  options: {
    all: { type: 'boolean', description: 'list: also the cores the indexes offer' },
    from: { type: 'string', description: 'install: a folder (or .tar.gz) with package_*_index.json and its archives' },
    core: { type: 'string', description: 'install --from: which core of the folder (default: all it offers)' },
    add: { type: 'string', description: 'index: add this board-manager index URL (https:// or file://) first' },
  },
  run: (context) => runAction(context, 'boards', actions),
};
