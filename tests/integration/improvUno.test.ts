// Improv and "makerdeck info" on the real firmware, compiled by the rig's real arduino-cli and flashed
// as a release to an emulated Uno (simavr running the real optiboot): device info reads its id and
// build; a device id set over Improv is kept in the EEPROM, reported after a reset and in telemetry;
// a new release voids it; a board whose emulator starts seconds after detection began is found.
// Every exchange shares the line with the board's telemetry (one line a second).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInfo, FlashSummary } from '../../electron/contract';
import { encodeConfigBlock } from '../../electron/core/firmware/release/configBlock';
import { stampHex } from '../../electron/core/firmware/release/stampHex';
import { createHost } from '../../electron/core/host';
import { runCli } from '../support/cli';
import { scratchEnv } from '../support/scratchEnv';
import { sampleValues } from '../support/configBlocks';
import { requiredEnv } from '../support/env';
import { monitorUntil } from '../support/monitor';
import { startUno, type EmulatedUno } from '../support/uno';

let scratch: string;
let env: NodeJS.ProcessEnv;
let uno: EmulatedUno;
let buildHash: string;

function host() {
  return createHost({ kind: 'cli', quiet: true, env: { ...process.env, ...env } });
}

async function flashProfile(): Promise<FlashSummary> {
  const flashed = await runCli(['flash', '--profile', 'uno-bench', '--port', uno.pty, '--json'], env, {
    timeoutMs: 150_000,
  });
  expect(flashed.code, flashed.stderr).toBe(0);
  return JSON.parse(flashed.stdout) as FlashSummary;
}

async function deviceInfo(port: string, extra: NodeJS.ProcessEnv = {}): Promise<DeviceInfo> {
  const result = await runCli(
    ['device', 'info', '--port', port, '--json'],
    { ...env, ...extra },
    { timeoutMs: 30_000 },
  );
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return JSON.parse(result.stdout) as DeviceInfo;
}

beforeAll(async () => {
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-improv-uno-'));
  uno = await startUno(path.join(scratch, 'uno'));
  env = scratchEnv(scratch, uno.env);
  const created = await runCli(
    ['profile', 'set', 'Uno Bench', '--board', 'arduino:avr:uno', '--device-id', 'uno-1', '--interval', '1'],
    env,
  );
  expect(created.code, created.stderr).toBe(0);
  buildHash = (await flashProfile()).release!.buildHash;
}, 240_000);

afterAll(async () => {
  await uno?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('Improv serial on the real firmware, on an emulated Uno', () => {
  it('device info reads its id, build and config', async () => {
    expect(await deviceInfo(uno.pty)).toMatchObject({
      source: 'makerdeck',
      firmware: 'Makerdeck',
      build: buildHash,
      chip: 'ATmega328P',
      deviceId: 'uno-1',
      provisioned: true,
      intervalS: 1,
      overridden: { deviceId: false, wifi: false },
    });
  }, 60_000);

  it('provision --device-id: kept in the EEPROM, reported after a reset and in telemetry', async () => {
    const set = await runCli(['provision', '--port', uno.pty, '--device-id', 'uno-renamed', '--json'], env, {
      timeoutMs: 30_000,
    });
    expect(set.code, set.stdout + set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ port: uno.pty, deviceId: 'uno-renamed' });
    // Opening the monitor resets the board: what it says at boot comes from the EEPROM.
    const lines = await monitorUntil(host(), uno.pty, (l) => l.some((x) => x.text.startsWith('telemetry,')));
    const texts = lines.map((l) => l.text);
    expect(texts).toContain(`makerdeck firmware ready, device uno-renamed, build ${buildHash}`);
    expect(texts.find((t) => t.startsWith('telemetry,'))).toMatch(/^telemetry,device=uno-renamed seq=0i,/);
    expect(await deviceInfo(uno.pty)).toMatchObject({
      deviceId: 'uno-renamed',
      overridden: { deviceId: true, wifi: false },
    });
    // A Uno has no Wi-Fi: refused before anything changes.
    const wifi = await runCli(['provision', '--port', uno.pty, '--ssid', 'lab', '--json'], env, {
      input: 'lab-password-1\n',
      timeoutMs: 30_000,
    });
    expect(wifi.code).toBe(2);
    expect(JSON.parse(wifi.stdout).error.message).toBe(
      'This board (ATmega328P) has no Wi-Fi: set only its device id (--device-id), nothing was changed',
    );
  }, 90_000);

  it("a re-flash (a new release) voids the id set on the board: the teacher's flash wins", async () => {
    const again = await flashProfile();
    expect(again.release).toMatchObject({ deviceId: 'uno-1', cached: true, buildHash });
    expect(await deviceInfo(uno.pty)).toMatchObject({
      deviceId: 'uno-1',
      overridden: { deviceId: false, wifi: false },
    });
    const lines = await monitorUntil(host(), uno.pty, (l) => l.some((x) => x.text.startsWith('telemetry,')));
    expect(lines.find((l) => l.text.startsWith('telemetry,'))!.text).toMatch(/^telemetry,device=uno-1 /);
  }, 200_000);

  it('a board whose emulator starts 3 s after detection began is found', async () => {
    // The same release on a second emulated Uno, started late: its image stamped here like a release.
    const images = path.join(scratch, 'cache', 'builds', 'images');
    const hex = readFileSync(
      path.join(
        images,
        readdirSync(images).find((f) => f.endsWith('.hex'))!,
      ),
      'latin1',
    );
    const late = path.join(scratch, 'late.hex');
    writeFileSync(late, stampHex(hex, encodeConfigBlock(sampleValues({ deviceId: 'uno-late', intervalS: 1 }))));
    const boardLink = path.join(scratch, 'late-uno', 'uno.pty');
    const link = await lateLink(boardLink);
    let lateUno: EmulatedUno | undefined;
    try {
      const started = Date.now();
      const reading = deviceInfo(link.path);
      await new Promise((resolve) => setTimeout(resolve, 3000)); // the delay under test, not a wait for a condition
      lateUno = await startUno(path.join(scratch, 'late-uno'), late);
      const info = await reading;
      expect(info).toMatchObject({ deviceId: 'uno-late', build: buildHash });
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    } finally {
      link.stop();
      await lateUno?.stop();
    }
  }, 90_000);
});

// A pty that reaches the board at `boardPath` once that exists (until then, what is written is lost):
// a port opened before the board's emulator started.
const LATE_LINK = `
import os, pty, select, sys, tty
board_path = sys.argv[1]
master, slave = pty.openpty()
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
board = None
while True:
    if board is None and os.path.exists(board_path):
        board = os.open(board_path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(board)
    fds = [master] + ([board] if board is not None else [])
    ready, _, _ = select.select(fds, [], [], 0.05)
    if master in ready:
        data = os.read(master, 4096)
        if board is not None:
            os.write(board, data)
    if board is not None and board in ready:
        os.write(master, os.read(board, 4096))
`;

async function lateLink(boardPath: string): Promise<{ path: string; stop(): void }> {
  const child: ChildProcess = spawn('python3', ['-c', LATE_LINK, boardPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const linkPath = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d) => resolve(String(d).trim()));
  });
  return { path: linkPath, stop: () => child.kill('SIGKILL') };
}
