// The README's set-up on a fresh machine: a Debian 12 minbase container with only Node.js 20.19.0 and
// its npm (scripts/rig/freshMachine.js) — no udev, no compilers, no git, no host caches — gets the
// repository as `git archive` and, as a normal user, runs `npm ci`, `npm run build`,
// `npx makerdeck doctor --json` and `npm run test:unit`. A set-up step that only works on a
// developer's machine fails here. Whole outputs: test-results/freshMachine/<step>.log.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../electron/contract';
import { ensureFreshMachineImage, NODE_PARTS } from '../../scripts/rig/freshMachine.js';
import { requiredEnv } from '../support/env';
import { startFreshMachine, type FreshMachine, type StepResult } from '../support/freshMachine';

const MINUTE = 60_000;

/** The serial devices this host has, by a plain reading of sysfs: what the doctor should list. */
function hostSerialDevices(): string[] {
  const tty = '/sys/class/tty';
  return readdirSync(tty)
    .filter((name) => /^tty(S|USB|ACM)\d+$/.test(name) && existsSync(`${tty}/${name}/device`))
    .filter((name) => !name.startsWith('ttyS') || readFileSync(`${tty}/${name}/type`, 'utf8').trim() !== '0')
    .map((name) => `/dev/${name}`)
    .filter((dev) => existsSync(dev))
    .sort();
}

/** A failed step's message: its exit code and the end of its output. */
function explain(result: StepResult): string {
  const last = result.output.split('\n').slice(-40).join('\n');
  return `exit ${result.code}; whole output in ${result.logFile}; last lines:\n${last}`;
}

describe('a fresh Debian 12 machine with only Node.js 20.19 and npm runs the README set-up', () => {
  let machine: FreshMachine;
  const devices = hostSerialDevices();
  const done = new Set<string>();
  const after = (step: string) => expect(done.has(step), `\`${step}\` failed above; this step needs it`).toBe(true);

  beforeAll(async () => {
    const dockerHost = requiredEnv('DOCKER_HOST', 'the test Docker daemon');
    const image = await ensureFreshMachineImage({ dockerHost });
    console.log(`[fresh-machine] image ${image.how} in ${image.seconds.toFixed(1)} s`);
    // Electron's binary comes from a host outside the npm registry, unreachable here (see the README).
    machine = await startFreshMachine(dockerHost, image.image, {
      env: { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
      devices,
      extraCaCerts: process.env.NODE_EXTRA_CA_CERTS,
    });
    console.log(`[fresh-machine] copied ${machine.source} into ${machine.dir}`);
  }, 30 * MINUTE);
  afterAll(() => machine?.stop(), MINUTE);

  it('has Node.js and npm as the README assumes, a normal user, and no udev, compiler, git or python', async () => {
    const tools = ['udevadm', 'cc', 'gcc', 'g++', 'make', 'python3', 'git', 'curl'];
    const result = await machine.step(
      'inventory',
      `node --version; npm --version; id -u; for t in ${tools.join(' ')}; do command -v $t || echo "no $t"; done`,
      MINUTE,
    );
    expect(result.code, explain(result)).toBe(0);
    const [node, npm, uid, ...rest] = result.stdout.trim().split('\n');
    expect(node).toBe(`v${NODE_PARTS.node.version}`);
    expect(npm).toBe(NODE_PARTS.npm.version);
    expect(Number(uid)).not.toBe(0);
    expect(rest).toEqual(tools.map((t) => `no ${t}`));
  });

  it(
    'npm ci installs every dependency from the npm registry (a fresh download, no host cache)',
    async () => {
      const result = await machine.step('npm-ci', 'npm ci --no-audit --no-fund', 20 * MINUTE);
      console.log(`[fresh-machine] npm ci: ${result.seconds.toFixed(0)} s`);
      // npm can print "npm error …" yet exit 0 (npm 10.8's "Exit handler never called!"), so its
      // output and the installed tree are checked too; npm's debug log goes next to the step's log.
      const failed = result.code !== 0 || /^npm error /m.test(result.output);
      if (failed)
        await machine.step('npm-ci-debug-log', 'tail -n 300 "$(ls -t ~/.npm/_logs/*-debug-0.log | head -n 1)"', MINUTE);
      expect(failed, explain(result)).toBe(false);
      const tree = await machine.step('npm-ls', 'npm ls --all', 2 * MINUTE);
      expect(tree.code, explain(tree)).toBe(0);
      done.add('npm ci');
    },
    21 * MINUTE,
  );

  it(
    'npm run build builds the app',
    async () => {
      after('npm ci');
      const result = await machine.step('build', 'npm run build', 10 * MINUTE);
      console.log(`[fresh-machine] npm run build: ${result.seconds.toFixed(0)} s`);
      expect(result.code, explain(result)).toBe(0);
      done.add('npm run build');
    },
    11 * MINUTE,
  );

  it(
    'makerdeck doctor --json runs every check and lists the serial ports without udev',
    async () => {
      after('npm run build');
      const result = await machine.step('doctor', 'npx makerdeck doctor --json', 2 * MINUTE);
      expect([0, 1], explain(result)).toContain(result.code); // 1: a check failed (no Docker, no keychain)
      const lines = result.stdout.trim().split('\n');
      expect(lines, explain(result)).toHaveLength(1);
      const report = JSON.parse(lines[0]!) as DoctorReport;
      const serial = report.checks.find((c) => c.id === 'serial-ports');
      expect(serial, 'the doctor has a serial-ports check').toBeDefined();
      expect(serial!.status, `${serial!.summary} / ${serial!.fix}`).not.toBe('fail');
      expect(serial!.summary).toMatch(devices.length ? /^\d+ ports? found/ : /^No serial ports found$/);
      expect((serial!.items ?? []).map((i) => i.label).sort()).toEqual(devices);
      // No udev error (the doctor's fixes may name udevadm in a command to copy), no stack trace.
      expect(result.output).not.toMatch(/spawn udevadm|udevadm ENOENT|\n\s+at .+:\d+:\d+\)?\n/);
    },
    3 * MINUTE,
  );

  // `npm start` in its own session (setsid: its process group is its PID), stopped with SIGTERM to
  // that group. The token never reaches the log: the address is printed without it.
  const FETCH =
    'fetch(process.argv[1]).then(async (r) => console.log("GET " + r.status + ", " + ' +
    '(/<html/i.test(await r.text()) ? "an HTML page" : "no HTML")), (e) => console.log("GET failed: " + e.message))';
  const START = [
    'setsid npm start > /tmp/start.log 2>&1 &',
    'pid=$!',
    'i=0',
    "started() { grep -q '#token=' /tmp/start.log || ! kill -0 $pid 2>/dev/null || [ $i -ge 600 ]; }",
    'until started; do sleep 0.2; i=$((i+1)); done', // the address, an early exit, or 2 min
    "sed 's/token=[A-Za-z0-9_-]*/token=…/' /tmp/start.log",
    "url=$(grep -o 'http://127\\.0\\.0\\.1:[0-9]*/' /tmp/start.log | head -n 1)",
    `node -e '${FETCH}' "$url"`,
    'node -e \'process.kill(-Number(process.argv[1]), "SIGTERM")\' $pid',
    'wait $pid',
    'echo "npm start ended"',
  ].join('\n');

  it(
    'npm start says there is no Electron runtime and serves the app in browser mode',
    async () => {
      after('npm run build');
      const result = await machine.step('npm-start', START, 3 * MINUTE);
      const [out, why] = [result.stdout, explain(result)];
      expect(result.code, why).toBe(0);
      expect(out, why).toMatch(/^No Electron runtime: .*Starting browser mode instead\.$/m);
      expect(out, why).toMatch(/^Makerdeck is running at http:\/\/127\.0\.0\.1:\d+\/#token=…$/m);
      expect(out, why).toMatch(/^GET 200, an HTML page$/m);
      expect(out, why).toMatch(/^npm start ended$/m);
    },
    4 * MINUTE,
  );

  it(
    'npm run test:unit passes',
    async () => {
      after('npm ci');
      const result = await machine.step('test-unit', 'npm run test:unit', 20 * MINUTE);
      console.log(`[fresh-machine] npm run test:unit: ${result.seconds.toFixed(0)} s`);
      expect(result.code, explain(result)).toBe(0);
      const summary = result.output.replace(/\x1b\[[0-9;]*m/g, ''); // vitest colours it
      const files = /Test Files\s+(\d+) passed \((\d+)\)/.exec(summary);
      const tests = /Tests\s+(\d+) passed \((\d+)\)/.exec(summary);
      expect(files?.[1], explain(result)).toBe(files?.[2]);
      expect(tests?.[1], explain(result)).toBe(tests?.[2]);
      expect(Number(files?.[1])).toBeGreaterThan(0);
      console.log(`[fresh-machine] unit tests: ${tests?.[1]} passed in ${files?.[1]} files`);
    },
    21 * MINUTE,
  );
});
