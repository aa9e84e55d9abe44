// A container of the fresh-machine image (scripts/rig/freshMachine.js) on the test dockerd, driven with
// the docker CLI: the repository goes in as `git archive`, each step runs as the normal user and
// leaves its whole output in test-results/freshMachine/<step>.log.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FRESH_MACHINE_USER } from '../../scripts/rig/freshMachine.js';
import { dockerCli, dockerEnv } from '../../scripts/rig/stackImages/build.js';
import { defaultRigCache } from '../../scripts/rig/common.js';
import { repoRoot } from './env';

export interface StepResult {
  code: number;
  /** stdout and stderr interleaved, as a terminal shows them. */
  output: string;
  stdout: string;
  seconds: number;
  logFile: string;
}

export interface FreshMachine {
  /** The checkout in the container, as the user sees it. */
  readonly dir: string;
  /** The commit copied in (HEAD, or a `git stash create` commit of HEAD plus uncommitted tracked changes). */
  readonly source: string;
  /** Runs `script` with sh in the checkout as the normal user. */
  step(name: string, script: string, timeoutMs: number): Promise<StepResult>;
  stop(): Promise<void>;
}

const LOG_DIR = path.join(repoRoot, 'test-results', 'freshMachine');

/**
 * Starts a container of `image` (its own network on the default bridge: the npm registry is reached
 * through NAT), with `devices` passed through, and copies the repository into ~/makerdeck.
 */
export async function startFreshMachine(
  dockerHost: string,
  image: string,
  {
    env = {},
    devices = [],
    extraCaCerts,
  }: { env?: Record<string, string>; devices?: string[]; extraCaCerts?: string } = {},
): Promise<FreshMachine> {
  mkdirSync(LOG_DIR, { recursive: true });
  const configDir = path.join(defaultRigCache(), 'fresh-machine', 'docker-config');
  const docker = (args: string[], opts: { input?: NodeJS.ReadableStream; timeoutMs?: number } = {}) =>
    runCommand(dockerCli(), args, dockerEnv(dockerHost, configDir), opts);
  const name = `makerdeck-fresh-${process.pid}-${Date.now()}`;
  const run = await docker([
    'run',
    '--detach',
    '--name',
    name,
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...devices.flatMap((d) => ['--device', d]),
    ...caArgs(extraCaCerts),
    '--entrypoint',
    'tail',
    image,
    '-f',
    '/dev/null', // keeps the container up between the steps; each step is a `docker exec`
  ]);
  if (run.code !== 0) throw new Error(`docker run ${image} failed (exit ${run.code}): ${run.output.trim()}`);
  const stop = async () => void (await docker(['rm', '--force', name]));

  const home = `/home/${FRESH_MACHINE_USER}`;
  const dir = `${home}/makerdeck`;
  const step = async (stepName: string, script: string, timeoutMs: number) => {
    const args = ['exec', '--user', FRESH_MACHINE_USER, '--workdir', dir, name, 'sh', '-c', script];
    const result = await docker(args, { timeoutMs });
    const logFile = path.join(LOG_DIR, `${stepName}.log`);
    writeFileSync(logFile, `$ ${script}\n${result.output}\n(exit ${result.code}, ${result.seconds.toFixed(1)} s)\n`);
    return { ...result, logFile };
  };
  try {
    const source = await gitSource();
    const archive = spawn('git', ['archive', '--format=tar', source], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let archiveErr = '';
    archive.stderr.on('data', (d: Buffer) => (archiveErr += d));
    const archived = new Promise<number>((resolve) => archive.on('close', (code) => resolve(code ?? 1)));
    const unpack = await docker(
      [
        'exec',
        '--interactive',
        '--user',
        FRESH_MACHINE_USER,
        '--workdir',
        home,
        name,
        'sh',
        '-c',
        `mkdir makerdeck && tar -xf - -C makerdeck`,
      ],
      { input: archive.stdout },
    );
    if ((await archived) !== 0) throw new Error(`git archive ${source} failed: ${archiveErr.trim()}`);
    if (unpack.code !== 0) throw new Error(`unpacking the repository in the container failed: ${unpack.output.trim()}`);
    return { dir, source, step, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The network's extra CA certificates (a TLS-inspecting egress proxy's, say), as this machine gives
 * them to Node: the same file, read-only, and NODE_EXTRA_CA_CERTS. A property of the network the
 * machine is on, not of the set-up under test; a user behind such a proxy needs it as well.
 */
function caArgs(file: string | undefined): string[] {
  if (!file || !existsSync(file)) return [];
  const inside = '/etc/ssl/extra-ca-certificates.crt';
  return ['--volume', `${file}:${inside}:ro`, '--env', `NODE_EXTRA_CA_CERTS=${inside}`];
}

/** HEAD, or HEAD plus the tracked files' uncommitted changes: never untracked or ignored files. */
async function gitSource(): Promise<string> {
  const stash = await runCommand('git', ['stash', 'create'], process.env, {});
  if (stash.code !== 0) throw new Error(`git stash create failed: ${stash.output.trim()}`);
  return stash.stdout.trim() || 'HEAD';
}

function runCommand(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  { input, timeoutMs = 600_000 }: { input?: NodeJS.ReadableStream; timeoutMs?: number },
): Promise<Omit<StepResult, 'logFile'>> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => ((output += d), (stdout += d)));
    child.stderr!.on('data', (d: Buffer) => (output += d));
    if (input) {
      child.stdin!.on('error', () => {}); // the reader may exit first; its exit code says why
      input.pipe(child.stdin!);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => (clearTimeout(timer), reject(error)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const note = signal
        ? `\n(killed by ${signal} after ${seconds.toFixed(0)} s: over its ${timeoutMs / 1000} s budget)`
        : '';
      resolve({ code: code ?? 128, output: output + note, stdout, seconds });
    });
  });
}
