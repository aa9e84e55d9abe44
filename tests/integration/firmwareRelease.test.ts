// Build once, release per device, on two emulated Unos (simavr running the real optiboot): one
// compile with the real arduino-cli, then each board flashed with the same build and its own
// profile's config block stamped in memory. Each board prints its own id; the second release is a
// build-cache hit; no byte of any password is on disk afterwards. After each release the boot check
// reads the board's boot line: the released id, another board's id (an error naming both), or silence.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileSummary, FlashSummary } from '../../electron/contract';
import { createHost } from '../../electron/core/host';
import { parseLineProtocol } from '../../electron/core/lineProtocol';
import { runCli } from '../support/cli';
import { scratchEnv } from '../support/scratchEnv';
import { requiredEnv } from '../support/env';
import { findSecrets, snapshot } from '../support/files';
import { monitorUntil } from '../support/monitor';
import { compileWithRig, startUno, switchingLink, type EmulatedUno } from '../support/uno';

const SECRETS = {
  a: { wifi: 'release-a-wifi-Q7x2k', mqtt: 'release-a-mqtt-Zp41w' },
  b: { wifi: 'release-b-wifi-Hs93m', mqtt: 'release-b-mqtt-Lr08c' },
};
const ALL_SECRETS = [SECRETS.a.wifi, SECRETS.a.mqtt, SECRETS.b.wifi, SECRETS.b.mqtt];
let scratch: string;
let env: NodeJS.ProcessEnv;
let unoA: EmulatedUno;
let unoB: EmulatedUno;

async function createProfile(
  name: string,
  deviceId: string,
  secrets: { wifi: string; mqtt: string },
  host = 'localhost',
) {
  const created = await runCli(
    [
      'profile',
      'set',
      name,
      '--board',
      'arduino:avr:uno',
      '--ssid',
      'lab',
      '--mqtt-host',
      host,
      '--device-id',
      deviceId,
      '--interval',
      '1',
      '--wifi-password',
      '--mqtt-password',
    ],
    env,
    { input: `${secrets.wifi}\n${secrets.mqtt}\n` },
  );
  expect(created.code, created.stderr).toBe(0);
}

/** Where a secret could have been written: data, build cache, Makerdeck's and the compiler's temp folders. */
function secretsOnDisk(): string[] {
  const places = {
    data: env.MAKERDECK_DATA_DIR!,
    cache: env.MAKERDECK_CACHE_DIR!,
    'os.tmpdir() of makerdeck': env.TMPDIR!,
    'private build root': path.join(os.tmpdir(), `makerdeck-${process.getuid!()}`),
  };
  const found: string[] = [];
  for (const [where, dir] of Object.entries(places)) {
    for (const [name, bytes] of snapshot(dir, { includeLogs: true })) {
      found.push(...findSecrets(`${where}/${name}`, bytes, ALL_SECRETS));
      // As an Intel HEX record would spell it out.
      const text = bytes.toString('latin1').toUpperCase();
      for (const secret of ALL_SECRETS)
        if (text.includes(Buffer.from(secret).toString('hex').toUpperCase())) found.push(`${where}/${name}: hex`);
    }
  }
  return found;
}

function host() {
  return createHost({ kind: 'cli', quiet: true, env: { ...process.env, ...env } });
}

beforeAll(async () => {
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-release-'));
  unoA = await startUno(path.join(scratch, 'uno-a'));
  unoB = await startUno(path.join(scratch, 'uno-b'));
  env = scratchEnv(scratch, unoA.env);
  await createProfile('Release A', 'release-a', SECRETS.a);
  await createProfile('Release B', 'release-b', SECRETS.b);
}, 120_000);

afterAll(async () => {
  await unoA?.stop();
  await unoB?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('build once, release per device (two emulated Unos)', () => {
  it('one compile, two releases: each board prints its own id, the second is a cache hit', async () => {
    const first = await runCli(['flash', '--profile', 'release-a', '--port', unoA.pty, '--json'], env, {
      timeoutMs: 120_000,
    });
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout) as FlashSummary;
    expect(a).toMatchObject({ verified: true, release: { deviceId: 'release-a', cached: false } });
    expect(a.release!.buildHash).toMatch(/^[0-9a-f]{16}$/);
    expect(a.boot).toMatchObject({ reported: true, deviceId: 'release-a', buildHash: a.release!.buildHash });

    const second = await runCli(['release', '--profile', 'release-b', '--port', unoB.pty, '--json'], env, {
      timeoutMs: 60_000,
    });
    expect(second.code, second.stderr).toBe(0);
    const b = JSON.parse(second.stdout) as FlashSummary;
    expect(b.release).toEqual({ deviceId: 'release-b', cached: true, buildHash: a.release!.buildHash });
    expect(b.boot).toMatchObject({ reported: true, deviceId: 'release-b', buildHash: a.release!.buildHash });
    const compiled = await runCli(['compile', '--board', 'arduino:avr:uno', '--json'], env);
    expect(JSON.parse(compiled.stdout) as CompileSummary).toMatchObject({
      success: true,
      cached: true,
      buildHash: a.release!.buildHash,
    });

    for (const [uno, id] of [
      [unoA, 'release-a'],
      [unoB, 'release-b'],
    ] as const) {
      const lines = await monitorUntil(
        host(),
        uno.pty,
        (l) => l.filter((x) => x.text.startsWith('telemetry,')).length >= 2,
      );
      expect(lines.map((l) => l.text)).toContain(
        `makerdeck firmware ready, device ${id}, build ${a.release!.buildHash}`,
      );
      const parsed = parseLineProtocol(lines.find((l) => l.text.startsWith('telemetry,'))!.text);
      if (!parsed.ok) throw new Error('the telemetry line did not parse');
      expect(Object.fromEntries(parsed.point.tags)).toEqual({ device: id });
    }
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toMatch(/release-[ab]-(wifi|mqtt)/);
    expect(secretsOnDisk()).toEqual([]);
  }, 240_000);

  it('a board that reports another id is an error naming both (stand-in: a port that switches boards)', async () => {
    // The flash goes to board B; the boot check then hears board A, which runs release-a.
    const link = await switchingLink(unoB.pty, unoA.pty);
    try {
      const result = await runCli(['release', '--profile', 'release-b', '--port', link.path], env, {
        timeoutMs: 60_000,
      });
      expect(result.code).toBe(2);
      const hash = /build ([0-9a-f]{16})/.exec(result.stderr)![1];
      expect(result.stderr.trim().split('\n').at(-1)).toBe(
        `makerdeck: The board on ${link.path} reports device release-a, build ${hash}, but this release is ` +
          `device release-b, build ${hash}: is this the board you meant to flash? Check which board is on this ` +
          'port, then flash it again',
      );
    } finally {
      await link.stop();
    }
  }, 90_000);

  it('a board that says nothing: written, verified, and the boot check says so (stand-in: a quiet link)', async () => {
    const link = await switchingLink(unoB.pty);
    try {
      const result = await runCli(['release', '--profile', 'release-b', '--port', link.path], env, {
        timeoutMs: 60_000,
      });
      expect(result.code, result.stderr).toBe(0);
      // The phases, in order, on stderr (not a terminal: one line each).
      const phases = result.stderr
        .trim()
        .split('\n')
        .map((line) => line.split(':')[0]);
      expect([...new Set(phases)]).toEqual(['compile', 'stamp', 'connect', 'write', 'verify', 'boot', 'done']);
      expect(result.stderr).toMatch(/^compile: Build [0-9a-f]{16} from the build cache$/m);
      expect(result.stderr).toContain('boot: Waiting up to 10 s for release-b to report');
      expect(result.stdout).toMatch(
        /^Flashed and verified \d+ bytes on .* as release-b \(build [0-9a-f]{16}, cached\)/,
      );
      expect(result.stdout).toContain(
        `Boot check: the board did not report within 10 s. The firmware was written and verified; ` +
          `open the serial monitor on ${link.path} (115200 baud)`,
      );
    } finally {
      await link.stop();
    }
  }, 90_000);

  it('the build itself is blank: flashed plain, the board says it is not provisioned', async () => {
    const images = path.join(scratch, 'cache', 'builds', 'images');
    const hex = readdirSync(images).find((name) => name.endsWith('.hex'))!;
    const result = await runCli(['flash', '--port', unoA.pty, '--board', 'uno', path.join(images, hex)], env, {
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('Boot check'); // a plain file has no id to expect
    const lines = await monitorUntil(host(), unoA.pty, (l) =>
      l.some((x) => x.text.startsWith('makerdeck firmware build')),
    );
    expect(lines.map((l) => l.text)).toContain('not provisioned: flash it with Makerdeck');
    expect(lines.some((l) => l.text.startsWith('telemetry,'))).toBe(false);
  }, 90_000);

  it('a value that does not fit the block is one line, before the port is touched', async () => {
    await createProfile('Release Long', 'release-long', SECRETS.a, `${'h'.repeat(60)}.example.lan`);
    const result = await runCli(['flash', '--profile', 'release-long', '--port', '/dev/makerdeck-no-such-port'], env);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      "makerdeck: The MQTT host is 72 bytes; the firmware's config block holds at most 63: shorten it in the profile",
    );
  });

  it('firmware without a config block: refused with a profile, flashed plain without one', async () => {
    const sketch = path.join(scratch, 'foreign', 'firmware');
    mkdirSync(sketch, { recursive: true });
    writeFileSync(
      path.join(sketch, 'firmware.ino'),
      'void setup() { Serial.begin(115200); Serial.println(F("someone else\'s sketch")); }\nvoid loop() {}\n',
    );
    const refused = await runCli(
      ['flash', '--profile', 'release-a', '--port', unoA.pty],
      {
        ...env,
        MAKERDECK_FIRMWARE_DIR: sketch,
      },
      { timeoutMs: 60_000 },
    );
    expect(refused.code).toBe(2);
    // Progress lines come first on stderr; the error is the last line.
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(
      'makerdeck: this firmware has no Makerdeck config block: build it with Makerdeck',
    );
    const { hexFile } = await compileWithRig(sketch, path.join(scratch, 'foreign', 'out'));
    const plain = await runCli(['flash', '--port', unoA.pty, '--board', 'uno', hexFile], env, { timeoutMs: 60_000 });
    expect(plain.code, plain.stderr).toBe(0);
    const lines = await monitorUntil(host(), unoA.pty, (l) => l.some((x) => x.text === "someone else's sketch"));
    expect(lines.length).toBeGreaterThan(0);
  }, 120_000);
});
