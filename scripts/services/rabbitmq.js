// A private RabbitMQ node (Debian's rabbitmq-server 3.10) with its MQTT plugin on 127.0.0.1, for
// benchmarks: database, logs, config, plugins file, Erlang cookie (HOME) and its own epmd all under
// `dir`, every listener on loopback and a free port, stopped by the PIDs we started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages, requireCommand } from './apt.js';
import { canConnect, freePort, mqttConnack } from './ports.js';
import { isMain, isRunning, pidAlive, sleep, stopChild, tail } from './proc.js';

export const RABBITMQ_PACKAGES = ['rabbitmq-server'];

// Not the /usr/sbin wrapper: it runs the server in a child shell (su) and does not pass SIGTERM on.
// This script starts beam.smp in the background and waits, with a trap that passes SIGTERM on to
// it (it only execs the VM under systemd or with input allowed).
const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

// setpriv (util-linux) sets a parent-death SIGTERM, then execs (same PID): epmd and the script go
// away even if the Node process dies without calling stop(), and the script's trap stops the node.
/**
 * @param {string} cmd
 * @param {string[]} args
 * @returns {[string, string[]]}
 */
const orphanSafe = (cmd, ...args) => ['setpriv', ['--pdeathsig', 'TERM', '--', cmd, ...args]];

/** @param {number} pid */
const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/**
 * The PIDs whose parent is one of `pids`, recursively (the node's erl_child_setup and its ports).
 * @param {(number | undefined)[]} pids
 */
function descendants(pids) {
  /** @type {Map<number | undefined, number[]>} */
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(
        readFileSync(`/proc/${entry}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ')[1],
      );
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  /** @type {number[]} */
  const out = [];
  /** @param {number | undefined} pid */
  const walk = (pid) => (children.get(pid) ?? []).forEach((child) => (out.push(child), walk(child)));
  pids.forEach(walk);
  return out;
}

/**
 * Starts a RabbitMQ node with only the MQTT plugin. MQTT clients may connect without credentials:
 * the plugin then logs them in as a user created on first boot with a random password (written to
 * the config file under `dir`, mode 0600, never on a command line); `username`/`password` are
 * returned too. `pid` is the VM's (beam.smp), `scriptPid` the rabbitmq-server script's.
 * Returns { pid, scriptPid, epmdPid, port, url, amqpPort, nodename, username, password, logFile, stop }.
 * @param {{ dir: string, timeoutMs?: number }} options
 */
export async function startRabbitMQ({ dir, timeoutMs = 90_000 }) {
  if (!existsSync(SERVER))
    throw new Error(
      `${SERVER} not found; install Debian package rabbitmq-server: apt-get install -y --no-install-recommends rabbitmq-server`,
    );
  const epmd = requireCommand('epmd', 'erlang-base');
  requireCommand('setpriv', 'util-linux');
  for (const sub of ['mnesia', 'log', 'home']) mkdirSync(join(dir, sub), { recursive: true });
  const [epmdPort, amqpPort, distPort, mqttPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const username = 'makerdeck-bench';
  const password = randomBytes(18).toString('base64url');
  const nodename = `mkd-${process.pid}-${randomBytes(3).toString('hex')}@localhost`;
  const config = join(dir, 'rabbitmq.conf');
  writeFileSync(
    config,
    [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      `mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`,
      // RabbitMQ's default already; stated because Nagle alone adds ~14 ms per message at 10k/s
      'mqtt.tcp_listen_options.nodelay = true',
      'mqtt.allow_anonymous = true',
      `mqtt.default_user = ${username}`,
      `mqtt.default_pass = ${password}`,
      `default_user = ${username}`,
      `default_pass = ${password}`,
      'log.console = false',
      'log.file.level = warning',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '# empty: keeps /etc/rabbitmq/rabbitmq-env.conf out\n');
  const logFile = join(dir, 'log', 'rabbit.log');
  const startupLog = join(dir, 'log', 'startup.log');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: join(dir, 'home'), // erl creates .erlang.cookie here
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_NODENAME: nodename,
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_LOGS: logFile,
    RABBITMQ_CONFIG_FILE: config,
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    RABBITMQ_DIST_PORT: String(distPort),
    // Erlang distribution listens on all interfaces unless told otherwise
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };

  // Our own epmd in the foreground (the node would otherwise start a daemonised one we cannot stop by PID).
  /** @type {number | undefined} */
  let startupFd = openSync(startupLog, 'a');
  const closeStartupFd = () => (startupFd === undefined ? undefined : (closeSync(startupFd), (startupFd = undefined)));
  const epmdChild = spawn(...orphanSafe(epmd, '-port', String(epmdPort)), {
    env,
    cwd: dir,
    stdio: ['ignore', startupFd, startupFd],
  });
  /** @type {{ child?: import('node:child_process').ChildProcess, beam?: number }} */
  const server = { child: undefined, beam: undefined };
  /** @type {Promise<void> | undefined} */
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      // SIGTERM to the script: its trap SIGTERMs the node and waits for its graceful shutdown (a
      // few seconds; erl_child_setup goes with it). The node by PID too, should the script be gone.
      if (server.child) await stopChild(server.child, 30_000);
      if (server.beam && pidAlive(server.beam)) {
        process.kill(server.beam, 'SIGTERM');
        for (let i = 0; i < 100 && pidAlive(server.beam); i++) await sleep(100);
        if (pidAlive(server.beam)) process.kill(server.beam, 'SIGKILL');
      }
      await stopChild(epmdChild);
    })());
  try {
    for (const deadline = Date.now() + 10_000; !(await canConnect(epmdPort)); await sleep(50)) {
      if (!isRunning(epmdChild) || Date.now() > deadline)
        throw new Error(`epmd did not listen on 127.0.0.1:${epmdPort}`);
    }
    server.child = spawn(...orphanSafe(SERVER), { env, cwd: dir, stdio: ['ignore', startupFd, startupFd] });
    closeStartupFd();
    for (const deadline = Date.now() + timeoutMs; (await mqttConnack(mqttPort)) !== 0; await sleep(250)) {
      if (!isRunning(server.child))
        throw new Error(`rabbitmq-server exited with ${server.child.exitCode ?? server.child.signalCode}`);
      if (Date.now() > deadline) throw new Error(`no MQTT CONNACK on 127.0.0.1:${mqttPort} within ${timeoutMs} ms`);
    }
    // The VM itself, for CPU and memory figures (the script's child: erl execs erlexec execs beam.smp)
    server.beam = descendants([server.child.pid]).find((pid) => comm(pid) === 'beam.smp');
    if (!server.beam) throw new Error(`no beam.smp under the rabbitmq-server script (pid ${server.child.pid})`);
  } catch (err) {
    closeStartupFd();
    await stop();
    throw new Error(
      `startRabbitMQ: ${/** @type {Error} */ (err).message}\n--- ${startupLog} ---\n${tail(startupLog, 15)}\n--- ${logFile} ---\n${tail(logFile, 15)}`,
      { cause: err },
    );
  }
  return {
    pid: server.beam,
    scriptPid: server.child.pid,
    epmdPid: epmdChild.pid,
    port: mqttPort,
    url: `mqtt://127.0.0.1:${mqttPort}`,
    amqpPort,
    nodename,
    username,
    password,
    logFile,
    stop,
  };
}

if (isMain(import.meta.url) && process.argv.includes('--self-test')) {
  await ensureDebianPackages(RABBITMQ_PACKAGES);
  const dir = await mkdtemp(join(tmpdir(), 'mkd-rabbitmq-'));
  let svc;
  try {
    const t0 = Date.now();
    svc = await startRabbitMQ({ dir });
    console.log(
      `rabbitmq ${svc.nodename} up in ${Date.now() - t0} ms: beam.smp ${svc.pid} under script ${svc.scriptPid}, epmd ${svc.epmdPid}, ${svc.url}, AMQP ${svc.amqpPort}`,
    );
    console.log(`anonymous MQTT CONNECT: CONNACK ${await mqttConnack(svc.port)}`);
    const family = /** @type {number[]} */ ([svc.scriptPid, svc.epmdPid, ...descendants([svc.scriptPid, svc.epmdPid])]);
    const listening = readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .filter((l) => / 0A /.test(l)); // state LISTEN
    const mine = new Set([svc.port, svc.amqpPort].map((p) => p.toString(16).toUpperCase().padStart(4, '0')));
    const local = (/** @type {string} */ l) => /** @type {string} */ (l.trim().split(/\s+/)[1]);
    const wild = listening.filter((l) => local(l).startsWith('00000000:') && mine.has(local(l).slice(9)));
    if (wild.length) throw new Error('a listener of this node is on 0.0.0.0');
    const t1 = Date.now();
    await svc.stop();
    console.log(`stopped in ${Date.now() - t1} ms`);
    const left = family.filter(pidAlive);
    if (left.length) throw new Error(`still running: ${left.join(' ')}`);
    if (await canConnect(svc.port)) throw new Error('MQTT port still open');
    console.log(`all ${family.length} processes gone; rabbitmq self-test OK`);
  } finally {
    await svc?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
