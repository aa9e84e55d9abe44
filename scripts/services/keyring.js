// A real Secret Service for tests: a private D-Bus session bus plus gnome-keyring-daemon with an
// unlocked login keyring, all state under `dir`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages, requireCommand } from './apt.js';
import { isMain, isRunning, run, sleep, stopChild, tail } from './proc.js';

export const KEYRING_PACKAGES = ['dbus-daemon', 'dbus-bin', 'gnome-keyring', 'libsecret-tools', 'util-linux'];

/**
 * @typedef {import('node:child_process').ChildProcessByStdio<null, import('node:stream').Readable, null>} StdoutChild
 * @typedef {import('node:child_process').ChildProcessByStdio<import('node:stream').Writable, null, null>} StdinChild
 */

// setpriv (util-linux) sets a parent-death SIGTERM and then execs the daemon (same PID), so the
// daemons go away even if this Node process dies without calling stop().
/** @param {string} cmd @param {string[]} args */
const orphanSafe = (cmd, ...args) => ['--pdeathsig', 'TERM', '--', cmd, ...args];

/** @param {string} s */
const xmlEscape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A private session bus listening on `<dir>/bus`. Its config has no service directories, so
 * nothing is ever auto-started on it: no stray gnome-keyring-daemon, and no gcr-prompter
 * (which would show an unlock dialog, and wait, whenever a DISPLAY is set) — unless `activatable`
 * names bus names and the command the bus runs to start each (e.g. one that never comes up).
 * Returns { address, pid, stop }.
 * @param {{ dir: string, timeoutMs?: number, activatable?: Record<string, string> }} options
 * @returns {Promise<{ address: string, pid: number | undefined, stop: () => Promise<void> }>}
 */
export async function startSessionBus({ dir, timeoutMs = 10_000, activatable = {} }) {
  const dbusDaemon = requireCommand('dbus-daemon', 'dbus-daemon');
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'bus');
  if (socket.length > 107) throw new Error(`startSessionBus: dir path too long for a unix socket (${dir})`);
  const services = join(dir, 'services');
  mkdirSync(services, { recursive: true });
  for (const [name, command] of Object.entries(activatable)) {
    writeFileSync(join(services, `${name}.service`), `[D-BUS Service]\nName=${name}\nExec=${command}\n`);
  }
  const config = join(dir, 'bus.conf');
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${xmlEscape(socket)}</listen>
  <servicedir>${xmlEscape(services)}</servicedir>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <!-- A desktop's session bus (session.conf) allows this many; the compiled-in 256 per user is
       reached by a dozen processes using the keyring at once, each entry holding a connection. -->
  <limit name="max_completed_connections">100000</limit>
  <limit name="max_incomplete_connections">10000</limit>
  <limit name="max_connections_per_user">100000</limit>
</busconfig>
`,
  );
  const logFile = join(dir, 'dbus-daemon.log');
  const logFd = openSync(logFile, 'a');
  // --nofork keeps it our child, so we know its PID and Node reaps it
  const child = /** @type {StdoutChild} */ (
    spawn('setpriv', orphanSafe(dbusDaemon, `--config-file=${config}`, '--nofork', '--print-address=1'), {
      stdio: ['ignore', 'pipe', logFd],
    })
  );
  closeSync(logFd);
  const stop = () => stopChild(child);
  try {
    const address = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no bus address within ${timeoutMs} ms`)), timeoutMs);
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(/** @type {string} */ (out.split('\n')[0]).trim());
        }
      });
      child.once('error', reject);
      child.once('exit', (code, sig) => reject(new Error(`dbus-daemon exited with ${code ?? sig}`)));
    });
    child.stdout.resume();
    return { address, pid: child.pid, stop };
  } catch (err) {
    await stop();
    throw new Error(`startSessionBus: ${/** @type {Error} */ (err).message}\n--- ${logFile} ---\n${tail(logFile)}`, {
      cause: err,
    });
  }
}

/**
 * Call a D-Bus method with dbus-send on the bus in `env`; resolves its --print-reply output.
 * @param {NodeJS.ProcessEnv} env
 * @param {string} dest
 * @param {string} path
 * @param {string} method
 * @param {string[]} args
 */
async function dbusSend(env, dest, path, method, ...args) {
  const r = await run('dbus-send', ['--session', '--print-reply', `--dest=${dest}`, path, method, ...args], {
    env: { ...process.env, ...env },
    timeoutMs: 10_000,
  });
  if (r.code !== 0) throw new Error(`dbus-send ${method} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Start a Secret Service (org.freedesktop.secrets) with an unlocked default "login" collection.
 * Returns { env, pid, busPid, stop }: put `env` (DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR,
 * XDG_DATA_HOME) into the environment of whatever should use it. stop() ends gnome-keyring-daemon,
 * then the bus, by the PIDs started here. With `restartOnCrash`, a daemon that dies on its own is
 * started again on the same bus and keyring (gnome-keyring 42 can abort when a client vanishes
 * mid-handshake), saying so on stderr with its log's tail, so one crash does not fail every later test.
 * @param {{ dir: string, timeoutMs?: number, restartOnCrash?: boolean }} options
 */
export async function startSecretService({ dir, timeoutMs = 10_000, restartOnCrash = false }) {
  const gkd = requireCommand('gnome-keyring-daemon', 'gnome-keyring');
  requireCommand('secret-tool', 'libsecret-tools');
  requireCommand('dbus-send', 'dbus-bin');
  // Set before anything starts: otherwise gnome-keyring-daemon keeps its keyrings in $HOME.
  /** @type {Record<string, string>} */
  const env = { XDG_DATA_HOME: join(dir, 'xdg-data'), XDG_RUNTIME_DIR: join(dir, 'xdg-runtime') };
  for (const d of Object.values(env)) {
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o700);
  }
  const bus = await startSessionBus({ dir, timeoutMs });
  env.DBUS_SESSION_BUS_ADDRESS = bus.address;
  /** @type {NodeJS.ProcessEnv} */
  const childEnv = { ...process.env, ...env };
  delete childEnv.DISPLAY;
  delete childEnv.WAYLAND_DISPLAY;

  const logFile = join(dir, 'gnome-keyring.log');
  const password = randomBytes(12).toString('hex');
  // --unlock reads the login keyring password from stdin (creating the keyring with it if new)
  const startDaemon = () => {
    const logFd = openSync(logFile, 'a');
    const daemon = /** @type {StdinChild} */ (
      spawn('setpriv', orphanSafe(gkd, '--foreground', '--unlock', '--components=secrets'), {
        env: childEnv,
        stdio: ['pipe', logFd, logFd],
      })
    );
    closeSync(logFd);
    daemon.stdin.on('error', () => {});
    daemon.stdin.end(password);
    return daemon;
  };
  let child = startDaemon();
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});

  /** @type {Promise<void> | undefined} */
  let stopping;
  const stop = () => (stopping ??= stopChild(child).then(() => bus.stop()));
  /** @param {StdinChild} daemon */
  const superviseCrash = (daemon) =>
    daemon.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(
        `[keyring] gnome-keyring-daemon (PID ${daemon.pid}) died (${signal ?? code}); starting it again on the same bus\n${tail(logFile, 5)}`,
      );
      child = startDaemon();
      superviseCrash(child);
    });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await Promise.race([sleep(50), spawnError]);
      if (!isRunning(child)) throw new Error(`gnome-keyring-daemon exited with ${child.exitCode ?? child.signalCode}`);
      const owned = await dbusSend(
        env,
        'org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        'string:org.freedesktop.secrets',
      );
      if (/boolean true/.test(owned)) break;
      if (Date.now() > deadline) throw new Error(`org.freedesktop.secrets not on the bus within ${timeoutMs} ms`);
    }
    await probe(childEnv);
  } catch (err) {
    await stop();
    throw new Error(`startSecretService: ${/** @type {Error} */ (err).message}\n--- ${logFile} ---\n${tail(logFile)}`, {
      cause: err,
    });
  }
  if (restartOnCrash) superviseCrash(child);
  return { env, pid: child.pid, busPid: bus.pid, stop };
}

/**
 * store, look up and clear an item, the way any libsecret client would
 * @param {NodeJS.ProcessEnv} env
 */
async function probe(env) {
  const attrs = ['service', 'makerdeck-probe', 'account', 'probe'];
  const secret = randomBytes(8).toString('hex');
  const store = await run('secret-tool', ['store', '--label=makerdeck probe', ...attrs], {
    env,
    input: secret,
    timeoutMs: 10_000,
  });
  if (store.code !== 0) throw new Error(`secret-tool store failed (exit ${store.code}): ${store.stderr.trim()}`);
  const lookup = await run('secret-tool', ['lookup', ...attrs], { env, timeoutMs: 10_000 });
  if (lookup.stdout !== secret)
    throw new Error(
      `secret-tool lookup returned ${JSON.stringify(lookup.stdout)} (exit ${lookup.code}): ${lookup.stderr.trim()}`,
    );
  const clear = await run('secret-tool', ['clear', ...attrs], { env, timeoutMs: 10_000 });
  if (clear.code !== 0) throw new Error(`secret-tool clear failed (exit ${clear.code}): ${clear.stderr.trim()}`);
}

/**
 * Lock the default collection of the Secret Service in `env` (from startSecretService). It cannot
 * be unlocked again without a prompt: start a fresh service for further unlocked tests.
 * @param {NodeJS.ProcessEnv} env
 */
export async function lockKeyring(env) {
  const svc = /** @type {const} */ (['org.freedesktop.secrets', '/org/freedesktop/secrets']);
  const path = (await dbusSend(env, ...svc, 'org.freedesktop.Secret.Service.ReadAlias', 'string:default')).match(
    /object path "([^"]+)"/,
  )?.[1];
  if (!path || path === '/') throw new Error('lockKeyring: the Secret Service has no default collection');
  await dbusSend(env, ...svc, 'org.freedesktop.Secret.Service.Lock', `array:objpath:${path}`);
  const locked = await dbusSend(
    env,
    'org.freedesktop.secrets',
    path,
    'org.freedesktop.DBus.Properties.Get',
    'string:org.freedesktop.Secret.Collection',
    'string:Locked',
  );
  if (!/boolean true/.test(locked)) throw new Error(`lockKeyring: ${path} still unlocked`);
  return path;
}

if (isMain(import.meta.url) && process.argv.includes('--self-test')) {
  await ensureDebianPackages(KEYRING_PACKAGES);
  const dir = await mkdtemp(join(tmpdir(), 'mkd-keyring-'));
  let svc;
  try {
    const t0 = Date.now();
    svc = await startSecretService({ dir });
    console.log(
      `secret service up in ${Date.now() - t0} ms (gnome-keyring-daemon ${svc.pid}, dbus-daemon ${svc.busPid})`,
    );
    console.log(svc.env);
    console.log(`locked ${await lockKeyring(svc.env)}`);
    const lookup = await run('secret-tool', ['lookup', 'service', 'makerdeck-probe', 'account', 'probe'], {
      env: { ...process.env, ...svc.env },
    });
    console.log(`lookup on the locked keyring: exit ${lookup.code}`);
    await svc.stop();
    for (const pid of /** @type {number[]} */ ([svc.pid, svc.busPid])) {
      try {
        process.kill(pid, 0);
        throw new Error(`process ${pid} still running`);
      } catch (err) {
        if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'ESRCH') throw err;
      }
    }
    console.log('keyring self-test OK');
  } finally {
    await svc?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
