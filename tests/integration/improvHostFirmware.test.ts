// The firmware's Improv serial, override and info-line code — the real sketch built for this computer
// with g++ (tests/support/hostFirmware.ts; its Wi-Fi is a stand-in, named so below, since no ESP
// compiler runs here) — on a real pty, driven by Makerdeck's client (improv-wifi-serial-sdk over the
// Web-Serial adapter) through the host and the CLI: read info, set the id and Wi-Fi, scan, a new
// release voiding board-side values, a board booting 5 s late, noise lines, hostile frames, silence.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInfo, DeviceProvisionResult, DeviceScanResult } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import { runCli } from '../support/cli';
import { sampleValues } from '../support/configBlocks';
import {
  buildHostFirmware,
  HOST_BUILD,
  startHostBoard,
  stampHostFirmware,
  type HostBoard,
  type HostBoardOptions,
} from '../support/hostFirmware';
import { monitorUntil } from '../support/monitor';
import { silentPty } from '../support/uno';

const WIFI = { ssid: 'lab-net', password: 'standin-wifi-Pw93' };
const VALUES = sampleValues({ deviceId: 'bench-7', wifiSsid: 'old-net', intervalS: 1 });
let scratch: string;
let env: NodeJS.ProcessEnv;
let host: Host;
let wifiBuild: Buffer;
let serialBuild: Buffer;
const running: HostBoard[] = [];

/** A stamped release of a build; each call is a new release (its own stamp, so its own CRC). */
function release(build: Buffer, name: string, stamp: number): string {
  return stampHostFirmware(build, path.join(scratch, name), VALUES, Buffer.alloc(8, stamp));
}

async function board(executable: string, options: Partial<HostBoardOptions> = {}): Promise<HostBoard> {
  const started = await startHostBoard(executable, { store: path.join(scratch, 'eeprom'), wifi: WIFI, ...options });
  running.push(started);
  return started;
}

async function call<T>(name: string, args: unknown): Promise<T> {
  const reply = await host.call(name, args);
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.value as T;
}

async function refusal(name: string, args: unknown): Promise<string> {
  const reply = await host.call(name, args);
  if (reply.ok) throw new Error(`${name} was expected to fail`);
  return reply.error.message;
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-improv-'));
  env = { MAKERDECK_DATA_DIR: path.join(scratch, 'data'), MAKERDECK_CACHE_DIR: path.join(scratch, 'cache') };
  host = createHost({ kind: 'cli', quiet: true, env: { ...process.env, ...env } });
  wifiBuild = buildHostFirmware(scratch, { wifi: true });
  serialBuild = buildHostFirmware(scratch, { wifi: false });
}, 120_000);

afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
  rmSync(path.join(scratch, 'eeprom'), { force: true });
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the firmware's Improv code built for the host (Wi-Fi is a stand-in)", () => {
  it('device info: id, build and non-secret config from the info line, never a password', async () => {
    const b = await board(release(wifiBuild, 'r1', 1));
    const info = await call<DeviceInfo>('device.info', { port: b.pty });
    expect(info).toEqual({
      port: b.pty,
      source: 'makerdeck',
      firmware: 'Makerdeck',
      build: HOST_BUILD,
      chip: 'ESP32 host stand-in',
      deviceId: 'bench-7',
      provisioned: true,
      wifiSsid: 'old-net',
      mqttHost: 'broker.lan',
      mqttPort: 1883,
      mqttUser: 'bench-7',
      intervalS: 1,
      overridden: { deviceId: false, wifi: false },
    });
    const cli = await runCli(['device', 'info', '--port', b.pty, '--json'], env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual(info);
    expect(cli.stdout).not.toContain(VALUES.wifiPassword);
    expect(cli.stdout).not.toContain(VALUES.mqttPassword);
  });

  it('sets the device id over Improv: reported at once, kept across a restart, used in telemetry', async () => {
    const executable = release(wifiBuild, 'r2', 2);
    const first = await board(executable);
    const set = await runCli(['provision', '--port', first.pty, '--device-id', 'bench-9', '--json'], env);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ port: first.pty, deviceId: 'bench-9' });
    await first.stop();

    const again = await board(executable);
    expect(await call<DeviceInfo>('device.info', { port: again.pty })).toMatchObject({
      deviceId: 'bench-9',
      overridden: { deviceId: true, wifi: false },
    });
    const lines = await monitorUntil(host, again.pty, (l) => l.some((x) => x.text.startsWith('telemetry,')));
    expect(lines.find((l) => l.text.startsWith('telemetry,'))!.text).toMatch(/^telemetry,device=bench-9 seq=/);
    expect(await refusal('device.provision', { port: again.pty, deviceId: 'no/slash' })).toMatch(/device id/);
  });

  it('a new release voids values set on the board under the previous one', async () => {
    const old = await board(release(wifiBuild, 'r3', 3));
    await call('device.provision', { port: old.pty, deviceId: 'stale-id' });
    await old.stop();
    const store = readFileSync(path.join(scratch, 'eeprom'));
    expect(store.subarray(0, 4).toString('latin1')).toBe('MDOV');

    const reflashed = await board(release(wifiBuild, 'r4', 4)); // same values, a new release
    expect(await call<DeviceInfo>('device.info', { port: reflashed.pty })).toMatchObject({
      deviceId: 'bench-7',
      overridden: { deviceId: false, wifi: false },
    });
    expect(readFileSync(path.join(scratch, 'eeprom')).subarray(0, 4)).toEqual(Buffer.alloc(4));
  });

  it('Wi-Fi from a profile (its keychain password), or typed and then kept on the profile', async () => {
    const created = await runCli(
      [
        'profile',
        'set',
        'Desk',
        '--board',
        'esp32:esp32:esp32',
        '--ssid',
        WIFI.ssid,
        '--mqtt-host',
        'broker.lan',
        '--device-id',
        'desk-1',
        '--wifi-password',
      ],
      env,
      { input: 'not-the-password-1\n' },
    );
    expect(created.code, created.stderr).toBe(0);
    const b = await board(release(wifiBuild, 'r5', 5));
    // The profile's stored password is wrong for the stand-in network: one line, nothing stored.
    const wrong = await runCli(['provision', '--port', b.pty, '--profile', 'Desk'], env);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr.trim()).toBe(
      `makerdeck: The board could not join "${WIFI.ssid}": check the SSID and password (ESP boards join 2.4 GHz networks only) and try again`,
    );
    expect((await call<DeviceInfo>('device.info', { port: b.pty })).overridden).toEqual({
      deviceId: false,
      wifi: false,
    });

    const typed = await runCli(
      ['provision', '--port', b.pty, '--profile', 'Desk', '--ssid', WIFI.ssid, '--json'],
      env,
      {
        input: `${WIFI.password}\n`,
      },
    );
    expect(typed.code, typed.stderr).toBe(0);
    expect(JSON.parse(typed.stdout)).toEqual({ port: b.pty, wifiSsid: WIFI.ssid, savedToProfile: 'Desk' });
    expect(typed.stdout + typed.stderr).not.toContain(WIFI.password);
    expect(await host.profiles.secretsOf('desk')).toMatchObject({ wifiPassword: WIFI.password });
    expect(await call<DeviceInfo>('device.info', { port: b.pty })).toMatchObject({
      wifiSsid: WIFI.ssid,
      overridden: { deviceId: false, wifi: true },
    });
    // From the profile now (the keychain holds the right password).
    expect(await call<DeviceProvisionResult>('device.provision', { port: b.pty, profile: 'Desk' })).toEqual({
      port: b.pty,
      wifiSsid: WIFI.ssid,
    });
  });

  it('scans networks; a board without Wi-Fi says so and refuses Wi-Fi before changing anything', async () => {
    const esp = await board(release(wifiBuild, 'r6', 6));
    expect(await call<DeviceScanResult>('device.scan', { port: esp.pty })).toEqual({
      port: esp.pty,
      wifi: true,
      networks: [
        { ssid: 'café open', rssi: -71, secured: false },
        { ssid: WIFI.ssid, rssi: -48, secured: true },
      ],
    });
    await esp.stop();

    const uno = await board(release(serialBuild, 'r7', 7));
    expect(await call<DeviceScanResult>('device.scan', { port: uno.pty })).toEqual({
      port: uno.pty,
      wifi: false,
      networks: [],
    });
    const refused = await refusal('device.provision', {
      port: uno.pty,
      ssid: WIFI.ssid,
      password: WIFI.password,
      deviceId: 'never-set',
    });
    expect(refused).toBe('This board (host) has no Wi-Fi: set only its device id (--device-id), nothing was changed');
    expect(await call<DeviceInfo>('device.info', { port: uno.pty })).toMatchObject({ deviceId: 'bench-7' });
  });

  it('a board that starts answering 5 s late is found within the window', async () => {
    const b = await board(release(wifiBuild, 'r8', 8), { bootMs: 5000 });
    const started = Date.now();
    const info = await call<DeviceInfo>('device.info', { port: b.pty });
    expect(info.deviceId).toBe('bench-7');
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500); // it really was asked while booting
  });

  it('log lines mixed into the stream (every 20 ms, some binary) do not disturb Improv', async () => {
    const b = await board(release(wifiBuild, 'r9', 9), { noise: true });
    const seen = await monitorUntil(
      host,
      b.pty,
      (l) => l.filter((x) => x.text.startsWith('mqtt connect')).length >= 20,
    );
    expect(seen.some((l) => l.text.includes('retry IMPRO'))).toBe(true);
    // Ids of 7 bytes make results 10 bytes long, the length the SDK's reader mistakes for a line end.
    for (let round = 1; round <= 10; round++) {
      const deviceId = `noisy-${round % 10}`;
      expect(await call<DeviceProvisionResult>('device.provision', { port: b.pty, deviceId })).toEqual({
        port: b.pty,
        deviceId,
      });
      expect(await call<DeviceInfo>('device.info', { port: b.pty })).toMatchObject({ deviceId });
    }
  });

  it('hostile frames are answered with an error and the board keeps answering', async () => {
    const b = await board(release(serialBuild, 'r10', 10));
    const port = new SerialPort({ path: b.pty, baudRate: 115200 });
    await new Promise((resolve) => port.once('open', resolve));
    let seed = 13;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const frames: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const data = Buffer.from(Array.from({ length: random() % 200 }, random));
      const head = Buffer.from([...Buffer.from('IMPROV'), i % 7 === 0 ? 2 : 1, 3, data.length]);
      const body = Buffer.concat([head, data]);
      const sum = body.reduce((a, x) => a + x, 0) & 0xff;
      // Wrong checksums, wrong versions, lengths beyond the buffer, truncated frames, stray bytes.
      frames.push(
        i % 5 === 0 ? body.subarray(0, random() % body.length) : Buffer.concat([body, Buffer.from([sum ^ 1])]),
      );
    }
    frames.push(Buffer.from('IMPROV\x01\x03\x02\x06\x05\xff\n')); // a declared length that lies
    for (const frame of frames) await new Promise((resolve) => port.write(frame, () => port.drain(resolve)));
    await new Promise((resolve) => port.close(resolve));
    expect(await call<DeviceInfo>('device.info', { port: b.pty })).toMatchObject({ deviceId: 'bench-7' });
  });

  it('a silent port: one line when the window ends, saying what to do', async () => {
    const pty = await silentPty();
    try {
      const started = Date.now();
      const cli = await runCli(['device', 'info', '--port', pty.path], env, { timeoutMs: 30_000 });
      expect(cli.code).toBe(3);
      expect(cli.stderr).toBe(
        `makerdeck: No answer from ${pty.path} in 12 s: check it is the board's port and the board runs (press reset), or flash it with Makerdeck (makerdeck flash --profile NAME --port ${pty.path})\n`,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(12_000);
    } finally {
      pty.stop();
    }
  });

  it("someone else's sketch printing lines: this board runs no Makerdeck firmware", async () => {
    const child = spawn(
      'python3',
      [
        '-c',
        'import os,pty,time,tty\nm,s=pty.openpty()\ntty.setraw(s)\nprint(os.ttyname(s),flush=True)\n' +
          'while True:\n os.write(m,b"hello from another sketch\\r\\n")\n time.sleep(0.1)',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const ptyPath = await new Promise<string>((resolve) =>
        child.stdout!.once('data', (d) => resolve(String(d).trim())),
      );
      const message = await refusal('device.info', { port: ptyPath, windowMs: 3000 });
      expect(message).toMatch(
        new RegExp(`^This board runs no Makerdeck firmware: ${ptyPath} printed \\d+ lines in 3 s but answered neither`),
      );
    } finally {
      child.kill('SIGKILL');
    }
  });
});
