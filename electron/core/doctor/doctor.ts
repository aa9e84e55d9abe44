// The setup doctor: runs every check in parallel, each inside its time budget, so the report
// always arrives (well under 5 s) even when a probe hangs.
import { MakerdeckError, type CheckId, type CheckStatus, type DoctorCheck, type DoctorReport } from '../../contract';
import { formatSeconds, withTimeout } from '../timeout';
import { arduinoCliCheck } from './arduinoCliCheck';
import type { Check, CheckOutcome, DoctorContext } from './check';
import { diskCheck } from './diskCheck';
import { dockerCheck } from './dockerCheck';
import { keychainCheck } from './keychainCheck';
import { serialPortsCheck } from './serialPortsCheck';

export const CHECKS: readonly Check[] = [dockerCheck, keychainCheck, arduinoCliCheck, serialPortsCheck, diskCheck];

const RANK: Record<CheckStatus, number> = { ok: 0, warn: 1, fail: 2 };

export function worstStatus(statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, status) => (RANK[status] > RANK[worst] ? status : worst), 'ok');
}

export async function runDoctor(
  context: DoctorContext,
  options: { only?: CheckId[]; onCheck?: (check: DoctorCheck) => void } = {},
): Promise<DoctorReport> {
  const started = Date.now();
  const selected = CHECKS.filter((check) => !options.only || options.only.includes(check.id));
  const checks = await Promise.all(
    selected.map(async (check) => {
      const result = await runCheck(check, context);
      options.onCheck?.(result);
      return result;
    }),
  );
  return {
    checks,
    status: worstStatus(checks.map((check) => check.status)),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}

async function runCheck(check: Check, context: DoctorContext): Promise<DoctorCheck> {
  const started = Date.now();
  let outcome: CheckOutcome;
  try {
    outcome = await withTimeout(check.budgetMs, check.title, (signal) => check.run(context, signal));
  } catch (error) {
    outcome = probeFailure(check, error);
  }
  return { id: check.id, title: check.title, ...outcome, durationMs: Date.now() - started };
}

function probeFailure(check: Check, error: unknown): CheckOutcome {
  if (error instanceof MakerdeckError && error.code === 'TIMEOUT') {
    return {
      status: 'fail',
      summary: `The check did not finish within ${formatSeconds(check.budgetMs)}`,
      fix: 'Run the doctor again; if it keeps hanging, restart the service it checks',
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    status: 'fail',
    summary: `The check failed: ${message.split('\n')[0]}`,
    fix: 'Run the doctor again; if it persists, report it with the log',
  };
}
