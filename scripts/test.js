// `npm test`: brings up everything the tests need, runs them, and takes it all down again.
// As root on Debian it installs the missing Debian packages itself; elsewhere it names them.
// Services run from this project's own scripts, on private sockets, and are stopped by PID.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from './services/apt.js';
import { DOCKER_PACKAGES, startDockerd } from './services/dockerd.js';
import { KEYRING_PACKAGES, startSecretService } from './services/keyring.js';
import { MOSQUITTO_PACKAGES } from './services/mosquitto.js';
import { RABBITMQ_PACKAGES } from './services/rabbitmq.js';
import { RIG_DEBIAN_PACKAGES, ensureArduinoRig } from './rig/arduino.js';
import { defaultRigCache } from './rig/common.js';
import { ESP32_QEMU_DEBIAN_PACKAGES, esp32QemuTestEnv } from './rig/esp32Qemu.js';
import { UNO_DEBIAN_PACKAGES, buildUnoRig } from './rig/uno.js';
import { ensureStackImages } from './rig/stackImages/cache.js';
import { STACK_DEBIAN_PACKAGES } from './rig/stackImages/recipes.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** chromium for the e2e suite, a real Docker engine, a real Secret Service (and util-linux's runuser), Mosquitto. */
const DEBIAN_PACKAGES = [
  ...new Set([
    'chromium',
    ...DOCKER_PACKAGES,
    ...KEYRING_PACKAGES,
    ...RIG_DEBIAN_PACKAGES,
    ...UNO_DEBIAN_PACKAGES,
    ...STACK_DEBIAN_PACKAGES,
    ...MOSQUITTO_PACKAGES,
    ...RABBITMQ_PACKAGES,
    ...ESP32_QEMU_DEBIAN_PACKAGES,
    'strace', // the offline laptop tests trace every connect (tests/support/offlineMachine.ts)
  ]),
];

/** @param {string} title */
function step(title) {
  console.log(`\n== ${title}`);
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {string} what
 */
function runOrExit(command, args, what) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`makerdeck test: ${what} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

/**
 * @param {NodeJS.ProcessEnv} env
 * @param {string[]} extraArgs
 * @returns {Promise<number>}
 */
function runVitest(env, extraArgs) {
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const args = [
    vitest,
    'run',
    '--reporter=default',
    '--reporter=json',
    '--outputFile.json=test-results/vitest.json',
    ...extraArgs,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** @param {number} code */
function printSummary(code) {
  try {
    const report = JSON.parse(readFileSync(path.join(root, 'test-results', 'vitest.json'), 'utf8'));
    const skipped = report.numPendingTests + report.numTodoTests;
    console.log(`\ntests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
    if (code !== 0 && report.numFailedTests === 0)
      console.log('tests: the run FAILED on errors outside the tests (see "Unhandled Errors" above)');
  } catch {
    console.log('\ntests: the test runner wrote no report (see its output above)');
  }
}

async function main() {
  step('Debian packages');
  await ensureDebianPackages(DEBIAN_PACKAGES);

  step('Build');
  runOrExit(
    process.execPath,
    [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
    'the build',
  );

  step(`Test rigs (cached in ${defaultRigCache()})`);
  const arduino = await ensureArduinoRig({ cacheDir: defaultRigCache() });
  console.log(`arduino-cli ${arduino.version} at ${arduino.arduinoCli}`);
  const uno = await buildUnoRig({ cacheDir: defaultRigCache() });
  console.log(`emulated Uno harness (simavr + optiboot) at ${uno.harness}`);
  const esp32 = await esp32QemuTestEnv({ cacheDir: defaultRigCache() });
  console.log(
    esp32.MAKERDECK_ESP32_QEMU
      ? `emulated ESP32 (QEMU + real ROM) at ${esp32.MAKERDECK_ESP32_QEMU}`
      : `emulated ESP32 MISSING (its tests will fail): ${esp32.MAKERDECK_ESP32_QEMU_MISSING}`,
  );

  const scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-test-'));
  /** @type {(() => Promise<void>)[]} */
  const stops = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((error) => console.error(`makerdeck test: cleanup: ${error.message}`));
    stops.length = 0;
    rmSync(scratch, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  /** @type {number} */
  let code;
  try {
    step('Test services');
    const docker = await startDockerd({ dir: path.join(scratch, 'docker') });
    stops.push(docker.stop);
    console.log(`dockerd running as PID ${docker.pid} at ${docker.host}`);
    await ensureStackImages({ dockerHost: docker.host, cacheDir: defaultRigCache() });
    const keyring = await startSecretService({ dir: path.join(scratch, 'keyring'), restartOnCrash: true });
    stops.push(keyring.stop);
    console.log(`Secret Service (gnome-keyring) running as PID ${keyring.pid} on a private D-Bus session`);

    step('Tests');
    mkdirSync(path.join(root, 'test-results'), { recursive: true });
    // An empty resources folder: the checkout's resources/ holds a bundled arduino-cli once the package
    // check or `npm run dist` ran, and the app prefers that one over the rig's the tests configure.
    const resources = path.join(scratch, 'resources');
    mkdirSync(resources);
    const env = {
      ...process.env,
      ...keyring.env,
      DOCKER_HOST: docker.host,
      MAKERDECK_ARDUINO_CLI: arduino.arduinoCli,
      MAKERDECK_ARDUINO_CLI_CONFIG: arduino.configFile,
      MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
      MAKERDECK_RESOURCES_DIR: resources,
      ...esp32,
      PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
    };
    code = await runVitest(env, process.argv.slice(2));
  } finally {
    await stopAll();
  }
  printSummary(code);
  process.exit(code);
}

main().catch((error) => {
  console.error(`makerdeck test: ${error.message}`);
  process.exit(1);
});
