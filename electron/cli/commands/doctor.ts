import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MakerdeckError, type CheckStatus, type DoctorAction, type DoctorReport } from '../../contract';
import { callApi, stringOption, type Command } from '../command';
import { EXIT, type Output } from '../output';

const MARK: Record<CheckStatus, string> = { ok: '✔ ok  ', warn: '! warn', fail: '✘ fail' };
const INDENT = '          ';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check Docker, the keychain, arduino-cli, serial ports and disk space',
  usage: 'makerdeck doctor [--save-fixes DIR] [--json]',
  options: {
    'save-fixes': { type: 'string', description: 'write the files the fixes offer (udev rules) into this folder' },
  },
  async run(context) {
    const { out } = context;
    const report = await callApi(context, 'doctor.run', {});
    const dir = stringOption(context.values, 'save-fixes');
    const saved = dir ? await saveFixFiles(report, dir) : new Map<string, string>();
    out.data(report);
    for (const check of report.checks) {
      out.text(`${MARK[check.status]}  ${check.title}: ${check.summary}`);
      for (const item of check.items ?? []) out.text(`${INDENT}${item.label}  ${item.detail}`);
      if (check.fix) out.text(`${INDENT}fix: ${check.fix}`);
      for (const action of check.actions ?? []) printAction(out, action, saved);
      for (const note of check.notes ?? []) out.text(`${INDENT}note: ${note}`);
    }
    out.text(`\n${report.checks.length} checks in ${report.durationMs} ms: ${report.status}`);
    return report.status === 'fail' ? EXIT.failed : EXIT.ok;
  },
};

function printAction(out: Output, action: DoctorAction, saved: Map<string, string>): void {
  if (action.kind === 'copy') {
    // The install command names ~/Downloads; point it at where --save-fixes wrote the file instead.
    let text = action.text;
    for (const [name, file] of saved) text = text.replaceAll(`~/Downloads/${name}`, file);
    out.text(`${INDENT}${action.label}:`);
    out.text(`${INDENT}  ${text}`);
    return;
  }
  const file = saved.get(action.fileName);
  out.text(
    file
      ? `${INDENT}saved ${file} (${action.label})`
      : `${INDENT}${action.label}: makerdeck doctor --save-fixes ~/Downloads writes ${action.fileName}`,
  );
}

/** Writes every file a fix offers into `dir`; returns file name → path written. */
async function saveFixFiles(report: DoctorReport, dir: string): Promise<Map<string, string>> {
  const saved = new Map<string, string>();
  const actions = report.checks.flatMap((check) => check.actions ?? []);
  for (const action of actions) {
    if (action.kind !== 'save') continue;
    // Only a plain name: a report must not be able to write outside the folder given.
    if (path.basename(action.fileName) !== action.fileName || action.fileName.startsWith('.')) continue;
    const file = path.resolve(dir, action.fileName);
    await mkdir(dir, { recursive: true })
      .then(() => writeFile(file, action.content, { mode: 0o644 }))
      .catch((error: NodeJS.ErrnoException) => {
        throw new MakerdeckError('BAD_INPUT', `Cannot write ${file} (${error.code ?? error.message})`);
      });
    saved.set(action.fileName, file);
  }
  return saved;
}
