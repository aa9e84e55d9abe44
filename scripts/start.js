// `npm start`: builds, then runs the Electron app — or, where no Electron runtime could be
// installed, says so in one line and runs the same app in browser mode.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { ARDUINO_CLI_RESOURCES_DIR, arduinoCliExe, hostTarget, readRecord } from './buildArduinoCli.js';
import { findElectron } from './electronRuntime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
  { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
);
if (build.status !== 0) {
  console.error('makerdeck: the build failed (see above): fix it, then run npm start again');
  process.exit(build.status ?? 1);
}

console.log(bundledArduinoCliLine());

const electron = findElectron();
const [command, args] =
  'path' in electron
    ? [electron.path, [root]]
    : [process.execPath, [path.join(root, 'bin', 'makerdeck.js'), 'serve', ...process.argv.slice(2)]];
if ('reason' in electron) console.log(`No Electron runtime: ${electron.reason}. Starting browser mode instead.`);

const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));

/** Which arduino-cli the app will prefer: the one in resources/ (as a package carries it), or why there is none. */
function bundledArduinoCliLine() {
  const target = hostTarget();
  const file = path.join(ARDUINO_CLI_RESOURCES_DIR, target, arduinoCliExe(target));
  const shown = path.relative(root, file);
  if (!existsSync(file)) {
    return (
      `arduino-cli: none bundled for ${target} (${shown}); \`npm run build:arduino-cli -- --target host\` builds it ` +
      '(needs Go). Until then Makerdeck uses MAKERDECK_ARDUINO_CLI or the arduino-cli on PATH.'
    );
  }
  const record = readRecord();
  const recorded = record.targets[target];
  const about = recorded ? `${record.version}, SHA-256 ${recorded.sha256.slice(0, 12)}…` : 'not in build.json';
  return `arduino-cli: bundled ${shown} (${about})`;
}
