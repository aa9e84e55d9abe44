// Flashing the emulated Uno: simavr runs the real optiboot, Makerdeck's STK500v1 flasher talks to
// it over a pty (DTR resets through the rig's LD_PRELOAD shim), and the sketch's own serial output
// is read back through Makerdeck's serial monitor.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlashSummary } from '../../electron/contract';
import { avrBoard } from '../../electron/core/firmware/avrBoards';
import { flashAvr } from '../../electron/core/firmware/avrFlasher';
import { parseIntelHex } from '../../electron/core/firmware/intelHex';
import { createHost } from '../../electron/core/host';
import { parseLineProtocol } from '../../electron/core/lineProtocol';
import { runCli } from '../support/cli';
import { monitorUntil } from '../support/monitor';
import { repoRoot, requiredEnv } from '../support/env';
import { writeChecksumSketch } from '../support/sketches';
import { compileWithRig, silentPty, startUno, type EmulatedUno } from '../support/uno';

const UNO = avrBoard('uno')!;
const SECRET_WIFI = 'uno-wifi-never-shown';
let scratch: string;
let uno: EmulatedUno;
let env: NodeJS.ProcessEnv;
let checksum: { hexFile: string; expected: number; image: ReturnType<typeof parseIntelHex> };

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-flash-'));
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  uno = await startUno(path.join(scratch, 'uno'));
  env = {
    ...uno.env,
    MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
  };
  const sketch = writeChecksumSketch(scratch, 29 * 1024);
  const { hexFile, hex } = await compileWithRig(sketch.sketchDir, path.join(scratch, 'out'));
  checksum = { hexFile, expected: sketch.checksum, image: parseIntelHex(hex, UNO.flashSize) };
  const created = await runCli(
    [
      'profile',
      'set',
      'Flash Bench',
      '--board',
      'arduino:avr:uno',
      '--ssid',
      'lab',
      '--mqtt-host',
      'localhost',
      '--device-id',
      'flash-bench',
      '--interval',
      '1',
      '--wifi-password',
    ],
    env,
    { input: `${SECRET_WIFI}\n` },
  );
  expect(created.code, created.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await runCli(['profile', 'rm', 'flash-bench'], env);
  await uno?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('flashing the emulated Uno (real optiboot in simavr)', () => {
  it('writes and verifies a ~30 KB image; the sketch then prints the checksum of all of it', async () => {
    expect(checksum.image.data.length).toBeGreaterThan(29 * 1024);
    const result = await runCli(['flash', '--port', uno.pty, '--board', 'uno', checksum.hexFile, '--json'], env, {
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const summary = JSON.parse(result.stdout) as FlashSummary;
    expect(summary).toMatchObject({ board: 'uno', verified: true, bytes: checksum.image.data.length });
    const host = createHost({ kind: 'cli', quiet: true, env: { ...process.env, ...env } });
    const lines = await monitorUntil(host, uno.pty, (l) => l.some((line) => line.text.startsWith('checksum=')));
    expect(lines.find((line) => line.text.startsWith('checksum='))?.text).toBe(`checksum=${checksum.expected}`);
  }, 90_000);

  it("releases a profile (build + its config block); the firmware's telemetry comes back and parses, with secrets masked in the monitor", async () => {
    // A copy of the firmware that also prints its Wi-Fi password: the monitor must never show it.
    const firmware = path.join(scratch, 'leaky-firmware');
    cpSync(path.join(repoRoot, 'firmware'), firmware, { recursive: true });
    const ino = path.join(firmware, 'firmware.ino');
    writeFileSync(
      ino,
      readFileSync(ino, 'utf8').replace(
        'sensorsBegin();',
        'sensorsBegin();\n  Serial.print(F("wifi password: "));\n  Serial.println(config().wifiPassword);',
      ),
    );
    const result = await runCli(
      ['flash', '--profile', 'flash-bench', '--port', uno.pty, '--json'],
      { ...env, MAKERDECK_FIRMWARE_DIR: firmware },
      { timeoutMs: 90_000 },
    );
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(SECRET_WIFI);

    const host = createHost({ kind: 'cli', quiet: true, env: { ...process.env, ...env } });
    await host.loadSecrets();
    const events: string[] = [];
    host.bus.onAny((name, payload) => events.push(JSON.stringify({ name, payload })));
    const lines = await monitorUntil(
      host,
      uno.pty,
      (l) => l.filter((line) => line.text.startsWith('telemetry,')).length >= 2,
    );
    const telemetry = lines.filter((line) => line.text.startsWith('telemetry,'));
    expect(telemetry.length).toBeGreaterThanOrEqual(2);
    const parsed = parseLineProtocol(telemetry[0]!.text);
    if (!parsed.ok) throw new Error(`the board's telemetry did not parse: ${telemetry[0]!.text}`);
    const { measurement, tags, fields } = parsed.point;
    expect({ measurement, tags: Object.fromEntries(tags), fields: Object.fromEntries(fields) }).toMatchObject({
      measurement: 'telemetry',
      tags: { device: 'flash-bench' },
      fields: { seq: expect.any(Number), a0: expect.any(Number) },
    });
    expect(telemetry[0]!.values).toMatchObject({ seq: expect.any(Number) });
    expect(lines.some((line) => line.text === 'wifi password: ••••')).toBe(true);
    expect(events.join('\n')).not.toContain(SECRET_WIFI);
  }, 120_000);

  it('refuses a malformed Intel HEX file in one line, before touching the port', async () => {
    const bad = path.join(scratch, 'bad.hex');
    writeFileSync(bad, ':100000000C945C000C946E000C946E000C946E00CB\n:00000001FF\n');
    const result = await runCli(['flash', '--port', uno.pty, '--board', 'uno', bad], env);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'makerdeck: Intel HEX line 1: bad checksum — rebuild the firmware or pick the right file',
    );
  });

  it('refuses a board whose signature does not match the chip, and the port stays usable', async () => {
    const wrong = { ...UNO, name: 'ATmega168 board', signature: [0x1e, 0x94, 0x06] as const };
    await expect(flashAvr({ port: uno.pty, board: wrong, image: checksum.image })).rejects.toThrow(
      /signature 1e 95 0f is not the ATmega168 board's \(1e 94 06\): pick the right board/,
    );
    await expect(flashAvr({ port: uno.pty, board: UNO, image: smallImage() })).resolves.toMatchObject({ bytes: 1024 });
  }, 60_000);

  it('names the process holding a busy port', async () => {
    const holder = spawn(
      'python3',
      [
        '-c',
        `import fcntl,os,sys,time\nfd=os.open(${JSON.stringify(uno.pty)},os.O_RDWR|os.O_NOCTTY)\nfcntl.flock(fd,fcntl.LOCK_EX)\nprint('held',flush=True)\ntime.sleep(60)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      await expect(flashAvr({ port: uno.pty, board: UNO, image: smallImage() })).rejects.toThrow(
        new RegExp(
          `is busy: process ${holder.pid} \\(python3\\) has it open — close the serial monitor or the other program`,
        ),
      );
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    await expect(flashAvr({ port: uno.pty, board: UNO, image: smallImage() })).resolves.toMatchObject({ bytes: 1024 });
  }, 60_000);

  it('says so when no bootloader answers', async () => {
    const silent = await silentPty();
    try {
      const started = Date.now();
      await expect(flashAvr({ port: silent.path, board: UNO, image: smallImage() })).rejects.toThrow(
        /No bootloader answered on .*: check the port and the board type/,
      );
      expect(Date.now() - started).toBeLessThan(6000);
    } finally {
      silent.stop();
    }
  });

  it('cancels mid-write with a clear error; the port is closed and flashes again afterwards', async () => {
    const controller = new AbortController();
    const flashing = flashAvr({
      port: uno.pty,
      board: UNO,
      image: checksum.image,
      signal: controller.signal,
      onProgress: (p) => p.phase === 'write' && p.bytesDone > 8 * 1024 && controller.abort(),
    });
    await expect(flashing).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(flashAvr({ port: uno.pty, board: UNO, image: checksum.image })).resolves.toMatchObject({
      bytes: checksum.image.data.length,
    });
  }, 60_000);

  it('reports a board that disappears mid-flash, and flashes a new one on the same path', async () => {
    const flashing = flashAvr({
      port: uno.pty,
      board: UNO,
      image: checksum.image,
      onProgress: (p) => p.phase === 'write' && p.bytesDone > 4096 && void uno.stop(),
    });
    await expect(flashing).rejects.toThrow(/went away|stopped answering/);
    uno = await startUno(path.join(scratch, 'uno'));
    await expect(flashAvr({ port: uno.pty, board: UNO, image: smallImage() })).resolves.toMatchObject({ bytes: 1024 });
  }, 60_000);
});

/** 1 KB of a jump-to-self program: valid to flash, quick to write. */
function smallImage() {
  const data = new Uint8Array(1024).fill(0xff);
  data.set([0xff, 0xcf], 0); // rjmp .-2
  return { data, used: 1024 };
}
