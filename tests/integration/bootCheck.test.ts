// The boot check on real ptys through the real serialport: a stand-in board (a pty fed by a small
// script) that prints noise, a hostile line, and then its boot line; one that stays silent; a port
// that is not there. The releases on emulated Unos are in firmwareRelease.test.ts.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkBoot } from '../../electron/core/firmware/bootCheck';
import { closePort, openSerialPort } from '../../electron/core/serial/openPort';
import { silentPty } from '../support/uno';

const EXPECTED = { deviceId: 'desk-1', buildHash: '0123456789abcdef' };

/** A stand-in board: writes `lines` to its pty every 100 ms (a board that prints them after each reset). */
async function talkingPty(lines: string[]): Promise<{ path: string; stop(): void }> {
  const script = [
    'import os, pty, sys, time, tty',
    'm, s = pty.openpty()',
    'tty.setraw(s)',
    'print(os.ttyname(s), flush=True)',
    'for _ in range(300):',
    '    os.write(m, bytes.fromhex(sys.argv[1]))',
    '    time.sleep(0.1)',
  ].join('\n');
  const child = spawn('python3', ['-c', script, Buffer.from(lines.join('\r\n') + '\r\n', 'latin1').toString('hex')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = await new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d).trim())));
  return { path, stop: () => child.kill('SIGKILL') };
}

describe('checkBoot (stand-in boards on ptys)', () => {
  it('finds the boot line among noise and a hostile line, and gives the port back', async () => {
    const board = await talkingPty([
      'garbage \x1b[31m\x00',
      `makerdeck firmware ready, device ${'x'.repeat(5000)}, build 1`,
      `makerdeck firmware ready, device ${EXPECTED.deviceId}, build ${EXPECTED.buildHash}`,
    ]);
    try {
      const boot = await checkBoot({ port: board.path, expected: EXPECTED, resetWithRts: false, timeoutMs: 5000 });
      expect(boot).toMatchObject({ reported: true, ...EXPECTED });
      // Released: serialport locks a port it holds, so a second open would fail as "busy".
      await closePort(await openSerialPort(board.path, 115200));
    } finally {
      board.stop();
    }
  });

  it('names both ids when another board answers', async () => {
    const board = await talkingPty([`makerdeck firmware ready, device desk-2, build ${EXPECTED.buildHash}`]);
    try {
      await expect(
        checkBoot({ port: board.path, expected: EXPECTED, resetWithRts: true, timeoutMs: 5000 }),
      ).rejects.toMatchObject({
        code: 'BAD_INPUT',
        message: expect.stringContaining(
          `reports device desk-2, build ${EXPECTED.buildHash}, ` +
            `but this release is device desk-1, build ${EXPECTED.buildHash}`,
        ),
      });
    } finally {
      board.stop();
    }
  });

  it('says a board that booted without its config was not accepted', async () => {
    const board = await talkingPty([`makerdeck firmware build ${EXPECTED.buildHash}`]);
    try {
      await expect(
        checkBoot({ port: board.path, expected: EXPECTED, resetWithRts: false, timeoutMs: 5000 }),
      ).rejects.toThrow(`booted build ${EXPECTED.buildHash} without a config`);
    } finally {
      board.stop();
    }
  });

  it('reports silence after the window, and a port that is gone, without failing', async () => {
    const silent = await silentPty();
    try {
      const boot = await checkBoot({ port: silent.path, expected: EXPECTED, resetWithRts: false, timeoutMs: 1500 });
      expect(boot).toMatchObject({ reported: false });
      if (boot.reported) throw new Error('unreachable');
      expect(boot.waitedMs).toBeGreaterThanOrEqual(1500);
      expect(boot.message).toMatch(/^the board did not report within 2 s\. The firmware was written and verified/);
    } finally {
      silent.stop();
    }
    const gone = await checkBoot({ port: '/dev/makerdeck-no-such-port', expected: EXPECTED, resetWithRts: false });
    expect(gone).toMatchObject({ reported: false });
    expect(gone.reported === false && gone.message).toMatch(
      /^the board could not be read after the flash \(.*does not exist/,
    );
  });

  it('stops at once when cancelled', async () => {
    const silent = await silentPty();
    try {
      const controller = new AbortController();
      const check = checkBoot({
        port: silent.path,
        expected: EXPECTED,
        resetWithRts: false,
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 200);
      await expect(check).rejects.toMatchObject({ code: 'CANCELLED' });
    } finally {
      silent.stop();
    }
  });
});
