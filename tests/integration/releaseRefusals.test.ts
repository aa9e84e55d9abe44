// A release that cannot be made is refused before the port is touched: a value that does not fit the
// firmware's config block (from the profile, the keychain or a hand-edited settings.json) and an image
// without a config block each give one line naming what is wrong, and the emulated Uno (the real
// optiboot, its harness logging every open of its port) never saw its port opened. The same foreign
// image flashed plain, without a profile, works: that open is logged, so the check can fail.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../../electron/core/host';
import { Keychain } from '../../electron/core/secrets/keychain';
import { Redactor } from '../../electron/core/secrets/redactor';
import { startEmulatedUno } from '../../scripts/rig/uno.js';
import { runCli } from '../support/cli';
import { folderAccount, forgetFolders } from '../support/keychain';
import { monitorUntil } from '../support/monitor';
import type { EmulatedUno } from '../support/uno';

const BLOCK_LIMIT = "the firmware's config block holds at most";
let scratch: string;
let env: NodeJS.ProcessEnv;
let uno: EmulatedUno;

/** How often the harness saw a client open the board's port (each open resets it into optiboot). */
const portOpens = () => (uno.log().match(/reset \(port (opened|closed and reopened)\)/g) ?? []).length;

async function profileSet(args: string[], input = 'refusal-wifi-8Kd2\nrefusal-mqtt-3Jq7\n') {
  const result = await runCli(['profile', 'set', 'Refusals', ...args], env, { input });
  expect(result.code, result.stderr).toBe(0);
}

async function releaseRefused(extra: string[] = []) {
  const result = await runCli(['flash', '--profile', 'refusals', '--port', uno.pty, ...extra], env, {
    timeoutMs: 60_000,
  });
  return { code: result.code, lines: result.stderr.trim().split('\n') };
}

/** Rewrites the profile's fields in settings.json as a person with an editor would. */
function editSettings(fields: Record<string, unknown>) {
  const file = path.join(env.MAKERDECK_DATA_DIR!, 'settings.json');
  const settings = JSON.parse(readFileSync(file, 'utf8'));
  const original = readFileSync(file);
  Object.assign(settings.profiles[0], fields);
  writeFileSync(file, JSON.stringify(settings, null, 2));
  return () => writeFileSync(file, original);
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-refusals-'));
  uno = await startEmulatedUno({ dir: path.join(scratch, 'uno'), verbose: true });
  env = {
    ...uno.env,
    MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
  };
  await profileSet(
    ['--board', 'arduino:avr:uno', '--ssid', 'lab', '--mqtt-host', 'localhost', '--device-id', 'refusals'].concat([
      '--wifi-password',
      '--mqtt-password',
    ]),
  );
}, 60_000);

afterAll(async () => {
  await forgetFolders([env.MAKERDECK_DATA_DIR!]);
  await uno?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('a release refused before the port is touched (emulated Uno)', () => {
  it('values that do not fit the config block: one line naming the field and its limit, no port opened', async () => {
    await profileSet(['--mqtt-password'], `${'p'.repeat(64)}\n`); // a profile takes 256; the block 63
    expect(await releaseRefused()).toEqual({
      code: 2,
      lines: [`makerdeck: The MQTT password is 64 bytes; ${BLOCK_LIMIT} 63: shorten it in the profile`],
    });
    await profileSet(['--mqtt-password'], 'refusal-mqtt-3Jq7\n');

    await profileSet(['--mqtt-user', 'é'.repeat(35)]); // 35 characters, 70 bytes
    expect(await releaseRefused()).toEqual({
      code: 2,
      lines: [`makerdeck: The MQTT username is 70 bytes; ${BLOCK_LIMIT} 63: shorten it in the profile`],
    });
    await profileSet(['--mqtt-user', 'refusals']);

    // A profile refuses a Wi-Fi password over 63; one put into the keychain by other means still is.
    const keychain = new Keychain(new Redactor());
    const account = folderAccount(env.MAKERDECK_DATA_DIR!, 'refusals/wifi-password');
    expect(await keychain.get(account)).toBe('refusal-wifi-8Kd2');
    await keychain.set(account, 'w'.repeat(64));
    expect(await releaseRefused()).toEqual({
      code: 2,
      lines: [`makerdeck: The Wi-Fi password is 64 bytes; ${BLOCK_LIMIT} 63: shorten it in the profile`],
    });
    await keychain.set(account, 'refusal-wifi-8Kd2');
    expect(portOpens()).toBe(0);
  }, 120_000);

  it('a hand-edited settings.json with an SSID, device id or text that cannot fit: named, no port opened', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ wifiSsid: 's'.repeat(33) }, /"profiles\.0\.wifiSsid": The Wi-Fi SSID must be at most 32 bytes \(UTF-8\)/],
      [{ deviceId: 'd'.repeat(65) }, /"profiles\.0\.deviceId": The device id must be 1 to 64 letters/],
      [{ wifiSsid: 'lab\uD800' }, /"profiles\.0\.wifiSsid": The Wi-Fi SSID is not valid UTF-8 text/],
    ];
    for (const [fields, message] of cases) {
      const restore = editSettings(fields);
      const refused = await releaseRefused();
      restore();
      expect(refused.lines, JSON.stringify(fields)).toHaveLength(1);
      expect(refused.lines[0]).toMatch(message);
      expect(refused.code).not.toBe(0);
    }
    expect(portOpens()).toBe(0);
  }, 120_000);

  it("a device's stack login where no stack was ever made: one line to start it, no port opened", async () => {
    // Once hung: making the stack's admin credential waited for the lock the device login held.
    await profileSet(['--mqtt-user', 'makerdeck-dev-refusals']);
    const refused = await releaseRefused();
    await profileSet(['--mqtt-user', 'refusals']);
    expect(refused.code).toBe(3);
    expect(refused.lines.at(-1)).toMatch(
      /^makerdeck: makerdeck-dev-refusals needs the local stack to be created \(.+\): start it with makerdeck stack up$/,
    );
    expect(portOpens()).toBe(0);
  }, 120_000);

  it('an image without a config block is refused with a profile, then flashed plain without one', async () => {
    const foreign = uno.rig.testHex; // the rig's own avr-gcc sketch: no Makerdeck config block
    const refused = await releaseRefused([foreign]);
    expect(refused.code).toBe(2);
    // Progress lines come first (the stamp phase starts, then finds no block); nothing connects.
    expect(refused.lines.at(-1)).toBe(
      'makerdeck: this firmware has no Makerdeck config block: build it with Makerdeck',
    );
    expect(refused.lines.filter((line) => /^(connect|write|verify)\b/.test(line))).toEqual([]);
    expect(portOpens()).toBe(0);

    const plain = await runCli(['flash', '--port', uno.pty, '--board', 'uno', foreign], env, { timeoutMs: 60_000 });
    expect(plain.code, plain.stderr).toBe(0);
    expect(portOpens()).toBeGreaterThan(0); // the harness does log an open
    const host = createHost({ kind: 'cli', quiet: true, env: { ...process.env, ...env } });
    const lines = await monitorUntil(host, uno.pty, (l) =>
      l.some((x) => x.text.startsWith('telemetry,device=uno-test')),
    );
    expect(lines.length).toBeGreaterThan(0);
  }, 120_000);
});
