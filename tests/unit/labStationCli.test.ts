import { describe, expect, it } from 'vitest';
import { portLine } from '../../electron/cli/commands/labStation';

describe('lab station output (portLine)', () => {
  it('one line per phase: port, device and student, phase, bytes and what is happening', () => {
    const startedAt = new Date(0).toISOString();
    expect(
      portLine({
        port: '/dev/ttyACM0',
        deviceId: 'lab3-01',
        student: 'Ada',
        phase: 'write',
        bytesDone: 12288,
        bytesTotal: 30720,
        message: 'write',
        startedAt,
      }),
    ).toBe('/dev/ttyACM0  lab3-01 (Ada)  write  12288/30720 B  write');
    expect(portLine({ port: '/dev/ttyACM1', phase: 'failed', reason: 'no seat left', message: 'x', startedAt })).toBe(
      '/dev/ttyACM1  -  failed  no seat left',
    );
  });
});
