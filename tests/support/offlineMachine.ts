// A laptop with no network, for running Makerdeck as a user there would: a network namespace with only
// loopback up, its own dockerd in it with an empty image store, its own Secret Service (a D-Bus bus on a
// path socket, which every namespace reaches: abstract ones are per network namespace), a fresh HOME and
// data folder, and a PATH without the test rig's arduino-cli. Every command runs under strace, so each
// step has its wall time and every connect/send to an address; serial ports (ptys) work across it.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { dockerApi, startDockerd } from '../../scripts/services/dockerd.js';
import { startSecretService } from '../../scripts/services/keyring.js';
import { requireCommand } from '../../scripts/services/apt.js';
import { CHROMIUM, launchChromium } from './browser';
import { repoRoot } from './env';
import { describeAttempt, networkAttempts, offLoopback, type NetworkAttempt } from './networkAttempts';

/** The PATH of the offline laptop: the system's folders only (no rig, no Go, no ~/.cargo). */
export const LAPTOP_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface OfflineStep {
  name: string;
  argv: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the command, strace's overhead included. */
  ms: number;
  attempts: NetworkAttempt[];
  /** The attempts to an address off loopback (a network this machine does not have). */
  offLoopback: NetworkAttempt[];
}

export interface OfflineServe {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM to `makerdeck serve` (by its PID); resolves its step once strace has written everything. */
  stop(): Promise<OfflineStep>;
}

export interface RunOptions {
  /** Extra environment over the laptop's (e.g. the emulated Uno's shim). */
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

export interface OfflineMachine {
  /** The network namespace, as a path nsenter takes. */
  readonly netns: string;
  readonly dockerHost: string;
  readonly dockerSocket: string;
  /** The laptop's environment: nothing from the test run's (no proxy, no rig, no MAKERDECK_ARDUINO_CLI*). */
  readonly env: NodeJS.ProcessEnv;
  /** Every command run so far, in order. */
  readonly steps: OfflineStep[];
  /** A new, empty data folder (and build cache) for a first start: environment to pass to run(). */
  freshData(name: string): NodeJS.ProcessEnv;
  /** Runs `makerdeck ARGS` inside, traced. */
  run(name: string, args: string[], options?: RunOptions): Promise<OfflineStep>;
  /** Runs any command inside, traced. */
  exec(name: string, argv: string[], options?: RunOptions): Promise<OfflineStep>;
  /** `makerdeck serve --port 0 --json` inside, traced until stopped. */
  serve(name: string, options?: RunOptions): Promise<OfflineServe>;
  /** Chromium started inside the namespace (the page reaches serve's loopback). */
  launchChromium(): Promise<Browser>;
  /** `ip -o link` and `ip route` inside: what this laptop's network is. */
  network(): Promise<{ links: string[]; routes: string[] }>;
  stop(): Promise<void>;
}

/** Starts the laptop; every part is stopped by the PID started here (stop() does it, also after a failure). */
export async function startOfflineMachine(): Promise<OfflineMachine> {
  const strace = requireCommand('strace', 'strace');
  const nsenter = requireCommand('nsenter', 'util-linux');
  onPathRefused('arduino-cli');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mdo-')); // short: dockerd's sockets live under it
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((error) => console.error(`offline machine: ${error}`));
    stops.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const docker = await startDockerd({ dir: path.join(dir, 'd'), ownNetns: true });
    stops.push(docker.stop);
    const images = JSON.parse((await dockerApi(docker.socketPath, 'GET', '/images/json')).body) as unknown[];
    if (images.length !== 0) throw new Error(`the offline dockerd's image store is not empty: ${images.length}`);
    const keyring = await startSecretService({ dir: path.join(dir, 'k') });
    stops.push(keyring.stop);
    const netns = `/proc/${docker.pid}/ns/net`;
    const home = path.join(dir, 'home');
    mkdirSync(path.join(home, 'tmp'), { recursive: true });
    mkdirSync(path.join(home, 'resources'));
    const env: NodeJS.ProcessEnv = {
      PATH: LAPTOP_PATH,
      HOME: home,
      USER: 'root',
      LANG: 'C.UTF-8',
      TMPDIR: path.join(home, 'tmp'),
      ...keyring.env,
      DOCKER_HOST: docker.host,
      MAKERDECK_DATA_DIR: path.join(home, 'data'),
      // Not the checkout's resources/, which may hold a bundled arduino-cli: only what the pack brings.
      MAKERDECK_RESOURCES_DIR: path.join(home, 'resources'),
    };
    return laptop({ dir, netns, env, strace, nsenter, stop, dockerHost: docker.host, dockerSocket: docker.socketPath });
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Refuses to start when `command` is on the laptop's PATH: the test would not prove what it says. */
function onPathRefused(command: string): void {
  for (const dir of LAPTOP_PATH.split(':')) {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
    } catch {
      continue;
    }
    throw new Error(`${path.join(dir, command)} is on the offline laptop's PATH: remove it, the test needs none`);
  }
}

interface Parts {
  dir: string;
  netns: string;
  env: NodeJS.ProcessEnv;
  strace: string;
  nsenter: string;
  stop: () => Promise<void>;
  dockerHost: string;
  dockerSocket: string;
}

function laptop({ dir, netns, env, strace, nsenter, stop, dockerHost, dockerSocket }: Parts): OfflineMachine {
  const steps: OfflineStep[] = [];
  let traces = 0;
  const makerdeck = [process.execPath, path.join(repoRoot, 'bin', 'makerdeck.js')];
  /** nsenter into the namespace, then strace: every process of the command, and its threads, traced. */
  const traced = (argv: string[]) => {
    const log = path.join(dir, `trace-${++traces}.log`);
    const prefix = [nsenter, `--net=${netns}`, '--', strace, '-f', '-qq', '--seccomp-bpf', '-o', log];
    return { log, argv: [...prefix, '-e', 'trace=connect,sendto,sendmsg', '-e', 'signal=none', '--', ...argv] };
  };
  const record = (
    name: string,
    argv: string[],
    log: string,
    result: Omit<OfflineStep, 'name' | 'argv' | 'attempts' | 'offLoopback'>,
  ) => {
    const attempts = networkAttempts(readFileSync(log, 'utf8'));
    const step = { name, argv, ...result, attempts, offLoopback: offLoopback(attempts) };
    steps.push(step);
    return step;
  };
  const exec = async (name: string, argv: string[], options: RunOptions = {}) => {
    const { log, argv: command } = traced(argv);
    const result = await runInGroup(command, { ...env, ...options.env }, options);
    return record(name, argv, log, result);
  };
  const freshData = (name: string) => {
    const base = path.join(dir, 'fresh', name);
    mkdirSync(base, { recursive: true });
    return { MAKERDECK_DATA_DIR: path.join(base, 'data'), MAKERDECK_CACHE_DIR: path.join(base, 'cache') };
  };
  const serve = async (name: string, options: RunOptions = {}) => {
    const argv = [...makerdeck, 'serve', '--port', '0', '--json'];
    const { log, argv: command } = traced(argv);
    const started = performance.now();
    const child = spawn(command[0]!, command.slice(1), {
      env: { ...env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve((JSON.parse(stdout.split('\n')[0]!) as { url: string }).url);
      });
      child.once('exit', (code) => reject(new Error(`makerdeck serve exited with ${code}: ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const stopServe = async () => {
      // strace's child is `makerdeck serve`: signal it, not strace (which would detach and leave it running)
      const pid = childrenOf(child.pid!)[0];
      if (pid) process.kill(pid, 'SIGTERM');
      const code = await exited;
      return record(name, argv, log, { code, stdout, stderr, ms: performance.now() - started });
    };
    return { url, child, stderr: () => stderr, stop: stopServe };
  };
  const launchInside = () => {
    const wrapper = path.join(dir, 'chromium-offline');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${nsenter} --net=${netns} -- ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    return launchChromium([], wrapper);
  };
  const network = async () => {
    const ip = async (args: string[]) =>
      (await runInGroup([nsenter, `--net=${netns}`, '--', 'ip', ...args], env, {})).stdout.trim().split('\n');
    return { links: await ip(['-o', 'link']), routes: (await ip(['route'])).filter(Boolean) };
  };
  return {
    netns,
    dockerHost,
    dockerSocket,
    env,
    steps,
    freshData,
    run: (name, args, options) => exec(name, [...makerdeck, ...args], options),
    exec,
    serve,
    launchChromium: launchInside,
    network,
    stop,
  };
}

/** The PIDs of `pid`'s children (its main thread's). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Runs to completion in its own process group, so a time-out kills the whole command (by that group's id). */
function runInGroup(
  argv: string[],
  env: NodeJS.ProcessEnv,
  { input, timeoutMs = 120_000 }: RunOptions,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.on('error', () => {}); // it may exit before reading its input
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      process.kill(-child.pid!, 'SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** One line per step: name, exit code, wall time, attempts off loopback. */
export function stepTable(steps: OfflineStep[]): string {
  return steps
    .map((s) => {
      const off = s.offLoopback.map(describeAttempt);
      const counts = `${s.attempts.length} addressed, ${s.offLoopback.length} off loopback`;
      return `${s.name.padEnd(34)} exit ${String(s.code).padEnd(4)} ${(s.ms / 1000).toFixed(2).padStart(7)} s  ${counts}${off.length ? `: ${[...new Set(off)].join(', ')}` : ''}`;
    })
    .join('\n');
}
