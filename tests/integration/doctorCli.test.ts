// `makerdeck doctor` as a user runs it: the built CLI in a child process, against real sockets.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_IDS, type DoctorReport } from '../../electron/contract';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { ARDUINO_CLI_VERSION } from '../../scripts/rig/arduino.js';
import { lockKeyring, startSecretService, startSessionBus } from '../../scripts/services/keyring.js';
import { deadSocket, hungSocket } from '../support/sockets';

function parseReport(stdout: string): DoctorReport {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // --json prints exactly one document
  return JSON.parse(lines[0]!) as DoctorReport;
}

const check = (report: DoctorReport, id: string) => report.checks.find((c) => c.id === id)!;

describe('makerdeck doctor --json', () => {
  let hung: Awaited<ReturnType<typeof hungSocket>>;
  beforeAll(async () => {
    hung = await hungSocket();
  });
  afterAll(() => hung.close());

  // The bound is on the doctor's own clock (its report's durationMs), not on this child process,
  // whose Node start-up under a loaded machine is no part of the claim.
  it('finishes every check in under 5 s by its own report when the Docker socket never answers', async () => {
    const result = await runCli(['doctor', '--json'], { DOCKER_HOST: `unix://${hung.path}` });
    const report = parseReport(result.stdout);
    expect(report.durationMs).toBeLessThan(5000);
    expect(hung.accepted()).toBeGreaterThan(0);
    expect(report.checks.map((c) => c.id).sort()).toEqual([...CHECK_IDS].sort());
    const docker = check(report, 'docker');
    expect(docker.status).toBe('fail');
    expect(docker.summary).toMatch(/did not answer in time/);
    expect(docker.fix).toMatch(/restart/i);
    expect(result.code).toBe(1); // a failed check
    for (const c of report.checks) {
      expect(['ok', 'warn', 'fail']).toContain(c.status);
      if (c.status !== 'ok') expect(c.fix, c.id).toBeTruthy();
    }
  });

  it('explains a missing socket (ENOENT) as Docker not installed or not running', async () => {
    const result = await runCli(['doctor', '--json'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    const docker = check(parseReport(result.stdout), 'docker');
    expect(docker).toMatchObject({ status: 'warn', summary: expect.stringMatching(/not installed or not running/) });
    expect(docker.fix).toMatch(/apt install docker\.io/);
  });

  it('explains a refused connection (ECONNREFUSED) as the daemon not running', async () => {
    const dead = await deadSocket();
    try {
      const result = await runCli(['doctor', '--json'], { DOCKER_HOST: `unix://${dead.path}` });
      const docker = check(parseReport(result.stdout), 'docker');
      expect(docker).toMatchObject({ status: 'fail', summary: expect.stringMatching(/daemon is not running/) });
      expect(docker.fix).toMatch(/systemctl start docker/);
    } finally {
      dead.close();
    }
  });

  it('explains permission denied (EACCES) with the docker group fix, run as user nobody', async () => {
    const dockerHost = requiredEnv('DOCKER_HOST', 'the test Docker daemon');
    const result = await runCli(['doctor', '--json'], { DOCKER_HOST: dockerHost }, { user: 'nobody' });
    const docker = check(parseReport(result.stdout), 'docker');
    expect(docker.status).toBe('fail');
    expect(docker.summary).toMatch(/Permission denied/);
    expect(docker.fix).toMatch(/usermod -aG docker/);
  });

  it('finds the real Docker engine started for the tests and names its version', async () => {
    const dockerHost = requiredEnv('DOCKER_HOST', 'the test Docker daemon');
    const result = await runCli(['doctor', '--json'], { DOCKER_HOST: dockerHost });
    const docker = check(parseReport(result.stdout), 'docker');
    expect(docker.status).toBe('ok');
    expect(docker.summary).toMatch(/^Docker Engine \d+\.\d+/);
  });

  it('finds the real Secret Service started for the tests', async () => {
    requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
    const result = await runCli(['doctor', '--json']);
    expect(check(parseReport(result.stdout), 'keychain')).toMatchObject({ status: 'ok' });
  });

  it('warns that the keyring is locked, with the unlock fix, against a real locked gnome-keyring', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-locked-'));
    const service = await startSecretService({ dir });
    try {
      await lockKeyring(service.env);
      const result = await runCli(['doctor', '--json'], service.env);
      const keychain = check(parseReport(result.stdout), 'keychain');
      expect(keychain).toMatchObject({ status: 'warn', summary: 'The keyring is locked' });
      expect(keychain.fix).toMatch(/^Unlock it/);
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails the keychain check with a fix when a D-Bus session runs but no Secret Service is on it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bus-'));
    const bus = await startSessionBus({ dir });
    try {
      const result = await runCli(['doctor', '--json'], { DBUS_SESSION_BUS_ADDRESS: bus.address });
      const keychain = check(parseReport(result.stdout), 'keychain');
      expect(keychain.status).toBe('fail');
      expect(keychain.summary).toMatch(/org\.freedesktop\.secrets/);
      expect(keychain.fix).toMatch(/gnome-keyring/);
    } finally {
      await bus.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails the keychain check with a fix when there is no D-Bus session at all', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-nobus-'));
    try {
      const result = await runCli(['doctor', '--json'], { DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/no-bus` });
      const keychain = check(parseReport(result.stdout), 'keychain');
      expect(keychain.status).toBe('fail');
      expect(keychain.fix).toMatch(/gnome-keyring/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tells user nobody how to get access to the machine's serial ports", async () => {
    const result = await runCli(['doctor', '--json'], {}, { user: 'nobody' });
    const serial = check(parseReport(result.stdout), 'serial-ports');
    const first = serial.items?.[0];
    if (!first) throw new Error('this test needs at least one serial device (a built-in ttyS port) on the machine');
    expect(serial.status).toBe('warn');
    expect(first.detail).toMatch(/no permission/);
    // The right advice depends on the device node: join its group, or (root-only nodes) add a udev rule.
    const { gid, mode } = statSync(first.label);
    const groupHelps = gid !== 0 && (mode & 0o060) === 0o060;
    expect(serial.fix).toMatch(
      groupHelps ? /^Add yourself to the \w+ group: sudo usermod -aG/ : /^Only root may open .*udev rule/,
    ); // The fix as steps: the exact command for the group, the udev rules file and its install command.
    const portGroup = first.detail.match(/\(group ([\w-]+)\)$/)?.[1];
    const group = portGroup && portGroup !== 'root' ? portGroup : 'dialout';
    const actions = serial.actions ?? [];
    expect(actions.find((a) => a.kind === 'copy')).toMatchObject({ text: `sudo usermod -aG ${group} "$USER"` });
    const rules = actions.find((a) => a.kind === 'save');
    expect(rules).toMatchObject({ fileName: '70-makerdeck-usb-serial.rules' });
    expect(rules?.kind === 'save' && rules.content).toContain(`GROUP="${group}", TAG+="uaccess"`);
    expect(serial.notes?.join(' ')).toMatch(/brltty/);
  });

  it('writes the udev rules file with --save-fixes, for user nobody', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-fixes-'));
    chmodSync(dir, 0o777);
    try {
      const result = await runCli(['doctor', '--save-fixes', dir], {}, { user: 'nobody' });
      const file = path.join(dir, '70-makerdeck-usb-serial.rules');
      expect(result.stdout).toContain(`saved ${file}`);
      expect(result.stdout).toContain(`sudo cp ${file} /etc/udev/rules.d/`);
      expect(readFileSync(file, 'utf8')).toMatch(
        /^SUBSYSTEM=="tty", ATTRS\{idVendor\}=="1a86", ATTRS\{idProduct\}=="7523"/m,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('makerdeck arduino-cli discovery', () => {
  it('reports the real arduino-cli of the test rig by version, from the configured path and from PATH', async () => {
    const cli = requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
    const arduinoCheck = async (env: NodeJS.ProcessEnv) =>
      check(parseReport((await runCli(['doctor', '--json'], env)).stdout), 'arduino-cli');
    const found = (where: string) => ({
      status: 'ok',
      summary: `arduino-cli ${ARDUINO_CLI_VERSION} (${where}: ${cli})`,
    });
    expect(await arduinoCheck({ MAKERDECK_ARDUINO_CLI: cli })).toMatchObject(found('configured path'));
    const onPath = { MAKERDECK_ARDUINO_CLI: undefined, PATH: `${path.dirname(cli)}:/usr/bin:/bin` };
    expect(await arduinoCheck(onPath)).toMatchObject(found('found on PATH'));
  });

  it('fails the check, naming the path, when the configured arduino-cli does not exist', async () => {
    const nowhere = '/nonexistent/arduino-cli';
    const result = await runCli(['doctor', '--json'], { MAKERDECK_ARDUINO_CLI: nowhere, PATH: '/usr/bin:/bin' });
    const missing = check(parseReport(result.stdout), 'arduino-cli');
    expect(missing).toMatchObject({ status: 'fail', summary: expect.stringContaining(`"${nowhere}" does not exist`) });
  });

  // The real arduino-cli always answers with its JSON; only a stand-in can answer with something else.
  it("fails the check when the program's version answer is not arduino-cli's JSON (stand-in script)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-cli-'));
    const standIn = path.join(dir, 'arduino-cli');
    writeFileSync(standIn, '#!/bin/sh\necho "not arduino-cli"\n');
    chmodSync(standIn, 0o755);
    try {
      const result = await runCli(['doctor', '--json'], { MAKERDECK_ARDUINO_CLI: standIn });
      const summary = `${standIn} answered "version --format json" with something that is not arduino-cli's JSON`;
      expect(check(parseReport(result.stdout), 'arduino-cli')).toMatchObject({ status: 'fail', summary });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('makerdeck command line', () => {
  it('rejects an unknown command in one line with exit code 2', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('makerdeck: unknown command "frobnicate": run makerdeck --help for the list\n');
  });

  it('rejects an unknown option with exit 2, as JSON under --json', async () => {
    const result = await runCli(['doctor', '--json', '--bogus']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: { code: 'BAD_INPUT', message: expect.stringContaining('--bogus') },
    });
  });

  it('lists its commands and exit codes under --help --json', async () => {
    const result = await runCli(['--help', '--json']);
    expect(result.code).toBe(0);
    const help = JSON.parse(result.stdout) as { commands: Array<{ name: string }>; exitCodes: Record<string, number> };
    expect(help.commands.map((c) => c.name)).toEqual(expect.arrayContaining(['doctor', 'serve']));
    expect(help.exitCodes.usage).toBe(2);
  });

  it('refuses a non-loopback address without --allow-remote', async () => {
    const result = await runCli(['serve', '--host', '0.0.0.0', '--json']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.message).toMatch(/--allow-remote/);
  });

  it('refuses a port that is not a port', async () => {
    const result = await runCli(['serve', '--port', '70000']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
