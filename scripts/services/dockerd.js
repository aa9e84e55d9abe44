// Start a private Debian `dockerd` (with the containerd it launches itself) whose state lives under `dir`.
import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages, requireCommand } from './apt.js';
import { isMain, isRunning, pidAlive, run, sleep, tail, waitForExit } from './proc.js';

export const DOCKER_PACKAGES = ['docker.io', 'tini', 'iproute2'];

/**
 * One HTTP request to the Docker API over its unix socket; resolves { status, body }.
 * @param {string} socketPath
 * @param {string} method
 * @param {string} path
 * @returns {Promise<{ status: number | undefined, body: string }>}
 */
export function dockerApi(socketPath, method, path, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** @param {number | string} pid */
const isDockerd = (pid) => /\/dockerd( \(deleted\))?$/.test(readlinkSync(`/proc/${pid}/exe`));

// docker0 and the DOCKER iptables chains are per network namespace, so a second dockerd here
// would fight the first over them (both hand out 172.17.0.2, ...). Refuse instead.
function otherDockerdInThisNetns() {
  const myNet = readlinkSync('/proc/self/ns/net');
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!isDockerd(pid)) continue;
      if (readlinkSync(`/proc/${pid}/ns/net`) !== myNet) continue;
      return { pid: Number(pid), cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() };
    } catch {
      // process vanished or is not ours to inspect
    }
  }
  return null;
}

/**
 * Mount points at or under `dir`, deepest first (mountinfo escapes spaces etc. as \ooo).
 * @param {string} dir
 */
function mountsUnder(dir) {
  /** @param {string} s */
  const unescape = (s) =>
    s.replace(/\\([0-7]{3})/g, (_, /** @type {string} */ o) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unescape(line.split(' ')[4] ?? ''))
    .filter((mp) => mp === dir || mp.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/** @param {string} file */
function readPid(file) {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** @param {number} pid */
const parentOf = (pid) => Number(/^\d+ \(.*\) \S+ (\d+)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1]);

/**
 * True for a live containerd or containerd-shim of the dockerd on `dir`: its -address/--config is under it.
 * @param {number} pid
 * @param {string} dir
 */
function ofExecRoot(pid, dir) {
  try {
    return (
      pidAlive(pid) &&
      readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .join(' ')
        .includes(`${join(dir, 'exec')}/containerd/`)
    );
  } catch {
    return false; // gone meanwhile
  }
}

/**
 * The PID of the dockerd running on `dir` (per its pidfile), or 0.
 * @param {string} dir
 */
function dockerdOn(dir) {
  const pid = readPid(join(dir, 'dockerd.pid'));
  try {
    return pid > 0 && pidAlive(pid) && isDockerd(pid) ? pid : 0;
  } catch {
    return 0; // gone meanwhile
  }
}

/** @param {number[]} pids */
const killAndWait = async (pids) => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  for (let i = 0; i < 50 && pids.some(pidAlive); i++) await sleep(100);
};

// A dockerd SIGKILLed on `dir` leaves containerd.pid behind and its containerd dying of its parent-death
// signal, or dead but a zombie (this sandbox's PID 1 reaps orphans late). kill(pid, 0) succeeds on both,
// so the next dockerd takes it for a live containerd to reuse and times out waiting for it. With no
// dockerd on `dir` any more that containerd is doomed anyway: finish it and forget it.
/** @param {string} dir */
async function forgetOrphanedContainerd(dir) {
  const file = join(dir, 'exec/containerd/containerd.pid');
  const pid = readPid(file);
  if (!pid || dockerdOn(dir)) return;
  if (ofExecRoot(pid, dir)) await killAndWait([pid]);
  if (!pidAlive(pid)) rmSync(file, { force: true });
}

// A dockerd that was SIGKILLed leaves the containers running with their containerd-shims (and its
// containerd, when that misses its parent-death signal), their mounts under `dir`, their cgroups and
// the shims' sockets in /run/containerd/s. Nothing is picked by name: the containers by the init.pid
// files in the task dirs (if their parent still is a shim of this dir), the shims and containerd as
// the processes whose command line names this exec root (-address/--config under it). Containers
// first, as a killed shim would orphan its container.
/** @param {string} dir */
async function killLeftovers(dir) {
  const tasks = join(dir, 'exec/containerd/daemon/io.containerd.runtime.v2.task');
  /** @param {string} d */
  const list = (d) => {
    try {
      return readdirSync(d).map((e) => join(d, e));
    } catch {
      return [];
    }
  };
  const taskDirs = list(tasks).flatMap(list); // <namespace>/<container id>; no deeper: rootfs is in there
  const containers = taskDirs
    .map((t) => readPid(join(t, 'init.pid')))
    .filter((pid) => {
      try {
        return pid > 0 && pidAlive(pid) && ofExecRoot(parentOf(pid), dir);
      } catch {
        return false; // gone meanwhile
      }
    });
  await killAndWait(containers);
  await killAndWait(
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map(Number)
      .filter((pid) => ofExecRoot(pid, dir)),
  );
  for (const task of taskDirs) {
    // the shim's socket (its address file says unix:///run/containerd/s/<hash>) and the cgroup dirs
    // named in the container's config.json (linux.cgroupsPath, e.g. /docker/<id> on cgroupfs)
    const socket = readFileSafe(join(task, 'address'))
      .replace(/^unix:\/\//, '')
      .trim();
    if (socket.startsWith('/run/containerd/s/')) rmSync(socket, { force: true });
    const cgroup = JSON.parse(readFileSafe(join(task, 'config.json')) || '{}').linux?.cgroupsPath;
    if (typeof cgroup !== 'string' || !cgroup.startsWith('/')) continue;
    for (const hierarchy of ['/sys/fs/cgroup', ...list('/sys/fs/cgroup')]) {
      try {
        rmdirSync(join(hierarchy, cgroup));
      } catch {
        // not in this hierarchy, or already gone
      }
    }
  }
}

/** @param {string} file */
function readFileSafe(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const BRIDGE = /^(docker0|br-[0-9a-f]{12})$/; // default bridge and user-defined networks

/** @typedef {{ links: Set<string>, forwardPolicy: string | null, ipForward: string | null }} NetworkSnapshot */

async function snapshotNetwork() {
  /** @type {NetworkSnapshot} */
  const snap = { links: new Set(readdirSync('/sys/class/net')), forwardPolicy: null, ipForward: null };
  try {
    snap.ipForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    snap.forwardPolicy = (await run('iptables', ['-S', 'FORWARD'])).stdout.match(/^-P FORWARD (\w+)/m)?.[1] ?? null;
  } catch {
    // no iptables: dockerd will complain itself
  }
  return snap;
}

// dockerd leaves its bridges, iptables rules and chains, ip_forward=1 and FORWARD policy DROP behind
// when it exits. Undo what appeared since the snapshot; keep everything if docker0 was already there
// (then some other docker set it up and owns it).
/** @param {NetworkSnapshot} snap */
async function restoreNetwork(snap) {
  const added = readdirSync('/sys/class/net').filter((l) => BRIDGE.test(l) && !snap.links.has(l));
  for (const link of added) await run('ip', ['link', 'delete', link]).catch(() => {});
  const ours = snap.links.has('docker0') ? added : [...added, 'DOCKER'];
  if (ours.length === 0) return;
  try {
    const saved = (await run('iptables-save')).stdout;
    const kept = saved
      .split('\n')
      .filter((l) => !ours.some((name) => l.includes(name)))
      .map((l) =>
        !snap.links.has('docker0') && snap.forwardPolicy && l.startsWith(':FORWARD ')
          ? `:FORWARD ${snap.forwardPolicy} [0:0]`
          : l,
      )
      .join('\n');
    if (kept !== saved) await run('iptables-restore', [], { input: kept });
    if (!snap.links.has('docker0') && snap.ipForward !== null)
      writeFileSync('/proc/sys/net/ipv4/ip_forward', snap.ipForward + '\n');
  } catch {
    // best effort
  }
}

/**
 * Start dockerd with everything under `dir` (a temp dir the caller creates and removes after stop()).
 * Returns { pid, host, socketPath, logFile, stop }: `pid` is dockerd's, `host` a DOCKER_HOST value.
 * stop() kills running containers, stops dockerd (SIGTERM, SIGKILL after 20 s), kills what a killed
 * dockerd left running under `dir`, unmounts whatever is left under it and removes the
 * bridges/iptables rules this dockerd added.
 *
 * ownNetns: run dockerd in a network namespace of its own, so it may run beside another dockerd (its
 * docker0, bridges and iptables rules live and die with that namespace; the API socket is a file, so
 * it is reachable from here all the same). Published ports are then only reachable inside it.
 * After a SIGKILL of `pid`, startDockerd again on the same `dir` restarts the engine on the same state.
 * @param {{ dir: string, timeoutMs?: number, extraArgs?: string[], ownNetns?: boolean }} options
 */
export async function startDockerd({ dir, timeoutMs = 30_000, extraArgs = [], ownNetns = false }) {
  const dockerd = requireCommand('dockerd', 'docker.io');
  if (process.getuid?.() !== 0) throw new Error('startDockerd: dockerd needs root');
  const other = ownNetns ? null : otherDockerdInThisNetns();
  if (other) {
    throw new Error(
      `startDockerd: another dockerd is already running in this network namespace (pid ${other.pid}: ${other.cmd}). ` +
        'Only one dockerd can own docker0 and the DOCKER iptables chains per namespace; stop it, or use it via its DOCKER_HOST instead.',
    );
  }
  const socketPath = join(dir, 'docker.sock');
  const execRoot = join(dir, 'exec');
  // the longest unix socket dockerd makes; sun_path holds 107 bytes
  if (join(execRoot, 'containerd/containerd-debug.sock').length > 107) {
    throw new Error(`startDockerd: dir path too long for unix sockets (${dir}); use a shorter temp dir`);
  }
  mkdirSync(execRoot, { recursive: true });
  await forgetOrphanedContainerd(dir);
  // an empty config file, so a host /etc/docker/daemon.json cannot change this daemon
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  const logFile = join(dir, 'dockerd.log');
  const net = ownNetns ? null : await snapshotNetwork();

  const args = [
    `--host=unix://${socketPath}`, // only this socket: no TCP, not /var/run/docker.sock
    `--data-root=${join(dir, 'data')}`,
    `--exec-root=${execRoot}`,
    `--pidfile=${join(dir, 'dockerd.pid')}`,
    `--config-file=${join(dir, 'daemon.json')}`,
    '--shutdown-timeout=2', // seconds containers get on daemon shutdown (default 15)
    ...extraArgs,
  ];
  const tini = requireCommand('tini', 'tini');
  const logFd = openSync(logFile, 'a');
  // tini -s adopts and reaps the containerd-shims, which orphan themselves (PID 1 in this sandbox
  // reaps orphans only late, so they linger as zombies); -p SIGTERM shuts dockerd down cleanly should
  // this Node process die without calling stop(). tini forwards our SIGTERM to dockerd.
  const command = [tini, '-s', '-p', 'SIGTERM', '--', dockerd, ...args];
  // unshare without --fork moves itself into the new namespace and execs the shell, which brings lo up
  // (a new namespace starts with it down) and execs tini: child.pid stays tini's, as without ownNetns.
  if (ownNetns)
    command.unshift(
      requireCommand('unshare', 'util-linux'),
      '--net',
      '--',
      'sh',
      '-c',
      'ip link set lo up && exec "$0" "$@"',
    );
  const child = spawn(/** @type {string} */ (command[0]), command.slice(1), { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});
  let pid = 0; // dockerd's own PID: tini's only child (with ownNetns, `ip` is the shell's child first)
  const findPid = () => {
    try {
      const first =
        Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) || 0;
      if (!pid && first && isDockerd(first)) pid = first;
    } catch {
      // tini gone
    }
    return pid;
  };

  const restartedSince = () => ![0, pid].includes(dockerdOn(dir));
  /** @type {Promise<void> | undefined} */
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      findPid();
      if (isRunning(child)) {
        // kill containers first so dockerd's own shutdown does not wait on them
        try {
          const list = JSON.parse((await dockerApi(socketPath, 'GET', '/containers/json')).body);
          await Promise.all(
            list.map((/** @type {{ Id: string }} */ c) =>
              dockerApi(socketPath, 'POST', `/containers/${c.Id}/kill`).catch(() => {}),
            ),
          );
        } catch {
          // daemon not answering: the signals below still apply
        }
        child.kill('SIGTERM');
        if (!(await waitForExit(child, 20_000))) {
          if (pid && pidAlive(pid)) process.kill(pid, 'SIGKILL');
          if (!(await waitForExit(child, 5000))) child.kill('SIGKILL');
          await waitForExit(child, 5000);
        }
      }
      // containerd is dockerd's child; dockerd stops it on shutdown, and it has a parent-death SIGKILL.
      // A dockerd started again on this dir since owns what is under it now: leave that alone.
      if (restartedSince()) return;
      await killLeftovers(dir);
      for (const mp of mountsUnder(dir)) {
        const r = await run('umount', [mp]);
        if (r.code !== 0) await run('umount', ['-l', mp]);
      }
      if (net) await restoreNetwork(net);
    })());

  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (!isRunning(child)) throw new Error(`dockerd exited with ${child.exitCode ?? child.signalCode}`);
      findPid();
      try {
        const r = await Promise.race([dockerApi(socketPath, 'GET', '/_ping', 1000), spawnError]);
        if (r.status === 200 && r.body === 'OK') break;
      } catch (err) {
        const { code, syscall } = /** @type {NodeJS.ErrnoException} */ (err);
        if (code === 'ENOENT' && syscall === 'spawn') throw err;
      }
      if (Date.now() > deadline) throw new Error(`no answer to GET /_ping within ${timeoutMs} ms`);
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw new Error(
      `startDockerd: ${/** @type {Error} */ (err).message}\n--- ${logFile} (tail) ---\n${tail(logFile, 25, /module=grpc/)}`,
      { cause: err },
    );
  }
  return { pid: findPid(), host: `unix://${socketPath}`, socketPath, logFile, stop };
}

if (isMain(import.meta.url) && process.argv.includes('--self-test')) {
  await ensureDebianPackages(DOCKER_PACKAGES);
  const dir = await mkdtemp(join(tmpdir(), 'mkd-docker-'));
  let svc;
  try {
    const t0 = Date.now();
    svc = await startDockerd({ dir });
    console.log(`dockerd pid ${svc.pid} up in ${Date.now() - t0} ms, DOCKER_HOST=${svc.host}`);
    const info = JSON.parse((await dockerApi(svc.socketPath, 'GET', '/info')).body);
    console.log(
      `server ${info.ServerVersion}, storage driver ${info.Driver}, cgroup ${info.CgroupDriver}/v${info.CgroupVersion}`,
    );
    const containerdPid = Number(readFileSync(join(dir, 'exec/containerd/containerd.pid'), 'utf8'));
    const t1 = Date.now();
    await svc.stop();
    console.log(`stopped in ${Date.now() - t1} ms`);
    if (pidAlive(svc.pid) || pidAlive(containerdPid)) throw new Error('dockerd or containerd still running');
    if (mountsUnder(dir).length) throw new Error(`still mounted: ${mountsUnder(dir)}`);
    console.log('dockerd self-test OK');
  } finally {
    await svc?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
