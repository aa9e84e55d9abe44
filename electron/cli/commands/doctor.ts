import type { CheckStatus } from '../../contract';
import { callApi, type Command } from '../command';
import { EXIT } from '../output';

const MARK: Record<CheckStatus, string> = { ok: '✔ ok  ', warn: '! warn', fail: '✘ fail' };

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check Docker, the keychain, arduino-cli, serial ports and disk space',
  usage: 'makerdeck doctor [--json]',
  options: {},
  async run(context) {
    const { out } = context;
    const report = await callApi(context, 'doctor.run', {});
    out.data(report);
    for (const check of report.checks) {
      out.text(`${MARK[check.status]}  ${check.title}: ${check.summary}`);
      for (const item of check.items ?? []) out.text(`          ${item.label}  ${item.detail}`);
      if (check.fix) out.text(`          fix: ${check.fix}`);
    }
    out.text(`\n${report.checks.length} checks in ${report.durationMs} ms: ${report.status}`);
    return report.status === 'fail' ? EXIT.failed : EXIT.ok;
  },
};
