// Resetting a lab between classes (being built: see the lab issue).
import { MakerdeckError, type LabResetSummary, type ParsedArgsOf } from '../../contract';

export function resetLab(_args: ParsedArgsOf<'lab.reset'>): Promise<LabResetSummary> {
  return Promise.reject(new MakerdeckError('UNAVAILABLE', 'Lab reset is not built yet'));
}
