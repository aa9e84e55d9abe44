import { describe, expect, it } from 'vitest';
import type { FirmwareProgress } from '../../electron/contract';
import { finishTrack, startTrack, trackProgress } from '../../renderer/src/pages/firmware/releaseTrack';

const event = (phase: FirmwareProgress['phase'], extra: Partial<FirmwareProgress> = {}): FirmwareProgress => ({
  operationId: 'op',
  phase,
  ...extra,
});
const states = (track: ReturnType<typeof startTrack>) => track.phases.map((p) => `${p.phase}:${p.state}`);

describe('releaseTrack', () => {
  it('marks the phases before the current one done and keeps the build it was told', () => {
    let track = trackProgress(startTrack(), event('compile', { message: 'Building for arduino:avr:uno' }));
    track = trackProgress(track, event('compile', { build: { cached: true, buildHash: 'abc' }, message: 'Build abc' }));
    track = trackProgress(track, event('write', { bytesDone: 128, bytesTotal: 1024 }));
    expect(states(track)).toEqual([
      'compile:done',
      'stamp:done',
      'connect:done',
      'write:active',
      'verify:pending',
      'boot:pending',
    ]);
    expect(track.build).toEqual({ cached: true, buildHash: 'abc' });
    expect(track.phases[3]).toMatchObject({ bytesDone: 128, bytesTotal: 1024 });
  });

  it("ignores phases it does not list (an ESP's reset) and fails the active phase", () => {
    let track = trackProgress(startTrack(), event('verify', { bytesDone: 1, bytesTotal: 2 }));
    track = trackProgress(track, event('reset'));
    expect(track.phases.find((p) => p.state === 'active')?.phase).toBe('verify');
    expect(states(finishTrack(track, 'failed'))).toContain('verify:failed');
    expect(states(finishTrack(track, 'failed'))).toContain('boot:pending');
  });

  it('ends with every phase done and the boot check result', () => {
    const boot = { reported: true as const, deviceId: 'desk-1', buildHash: 'abc', ms: 1500 };
    const track = finishTrack(trackProgress(startTrack(), event('boot')), { boot });
    expect(states(track).every((s) => s.endsWith(':done'))).toBe(true);
    expect(track.boot).toEqual(boot);
  });
});
