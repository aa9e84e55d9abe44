import { describe, expect, it } from 'vitest';
import type { PackProgress } from '../../electron/contract';
import {
  CREATE_PHASES,
  IMPORT_PHASES,
  finishPackTrack,
  startPackTrack,
  trackPackProgress,
  type PackTrack,
} from '../../renderer/src/pages/pack/packTrack';

const event = (phase: PackProgress['phase'], extra: Partial<PackProgress> = {}): PackProgress => ({
  operationId: 'op',
  phase,
  ...extra,
});
const states = (track: PackTrack) => track.phases.map((p) => `${p.phase}:${p.state}`);

describe('packTrack', () => {
  it('marks the phases before the current one done and keeps the part and bytes of the active one', () => {
    let track = trackPackProgress(startPackTrack(IMPORT_PHASES), event('verify', { bytesDone: 10, bytesTotal: 40 }));
    track = trackPackProgress(track, event('extract', { part: 'core/makerdeckavr:avr', bytesDone: 5, bytesTotal: 9 }));
    expect(states(track)).toEqual(['verify:done', 'space:done', 'extract:active', 'install:pending']);
    expect(track.phases[0]).toMatchObject({ bytesDone: 40, bytesTotal: 40 });
    expect(track.phases[2]).toMatchObject({ part: 'core/makerdeckavr:avr', bytesDone: 5, bytesTotal: 9 });
  });

  it('keeps the part and message of an active phase when a later event of it omits them', () => {
    let track = trackPackProgress(startPackTrack(CREATE_PHASES), event('write', { part: 'images/core', message: 'm' }));
    track = trackPackProgress(track, event('write', { bytesDone: 1, bytesTotal: 2 }));
    expect(track.phases[1]).toMatchObject({ state: 'active', part: 'images/core', message: 'm', bytesDone: 1 });
  });

  it('ignores a phase the flow does not list, and "done" ends every phase done', () => {
    const start = startPackTrack(CREATE_PHASES);
    expect(trackPackProgress(start, event('install'))).toBe(start);
    expect(states(trackPackProgress(start, event('done')))).toEqual(['plan:done', 'write:done']);
  });

  it('ends a phase when all its bytes are through, but not on one part’s, nor the space check on its figures', () => {
    let track = trackPackProgress(startPackTrack(IMPORT_PHASES), event('verify', { bytesDone: 40, bytesTotal: 40 }));
    expect(states(track)).toEqual(['verify:done', 'space:pending', 'extract:pending', 'install:pending']);
    track = trackPackProgress(track, event('space', { bytesDone: 900, bytesTotal: 100 }));
    expect(track.phases[1]!.state).toBe('active');
    track = trackPackProgress(track, event('extract', { part: 'profiles', bytesDone: 9, bytesTotal: 9 }));
    expect(track.phases[2]!.state).toBe('active');
  });

  it('fails the active phase, and blames none when it failed between two phases', () => {
    const active = trackPackProgress(startPackTrack(IMPORT_PHASES), event('space'));
    expect(states(finishPackTrack(active, 'failed'))).toEqual([
      'verify:done',
      'space:failed',
      'extract:pending',
      'install:pending',
    ]);
    const verified = trackPackProgress(startPackTrack(IMPORT_PHASES), event('verify', { bytesDone: 5, bytesTotal: 5 }));
    expect(states(finishPackTrack(verified, 'failed'))).toEqual([
      'verify:done',
      'space:pending',
      'extract:pending',
      'install:pending',
    ]);
  });
});
