// Placeholder for `makerdeck lab station` (the station helper's version replaces this file at merge).
import { MakerdeckError } from '../../contract';
import type { CommandContext } from '../command';

/** Runs the flash station of a lab: not built yet. */
export function labStationAction(_context: CommandContext): Promise<number> {
  return Promise.reject(new MakerdeckError('UNAVAILABLE', 'makerdeck lab station is not built yet'));
}
