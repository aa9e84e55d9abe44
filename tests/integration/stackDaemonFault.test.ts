// Fault test: the Docker daemon dies in the middle of `up` (stand-in services). `up` must say so in
// one line as soon as the connection breaks, and once the daemon is back a second `up` must finish the stack.
// It runs its own dockerd, in a network namespace of its own (so beside the one npm test starts),
// and SIGKILLs it: a crash, not a clean stop.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { startDockerd } from '../../scripts/services/dockerd.js';
import { pidAlive } from '../../scripts/services/proc.js';
import { MakerdeckError } from '../../electron/contract';
import { parseCompose } from '../../electron/core/stack/compose';
import { containerName, LABEL_PROJECT } from '../../electron/core/stack/containerSpec';
import { Orchestrator, type StackProgress } from '../../electron/core/stack/orchestrator';
import { ensureStandinImage, STANDIN_IMAGE } from '../support/standinImage';
import { until } from '../support/wait';

const project = `mdfault${process.pid}`;
// Short: dockerd's unix sockets live under it (sun_path holds 107 bytes).
const dir = mkdtempSync(path.join(os.tmpdir(), 'mdf-'));
let daemon: Awaited<ReturnType<typeof startDockerd>> | undefined;

// a takes 3 s to get healthy, so the daemon dies while up waits for it; b waits for a.
const composeText = `name: ${project}
services:
  a:
    image: ${STANDIN_IMAGE}
    restart: unless-stopped
    environment:
      NAME: stand-in-a
      READY_AFTER: 3s
    healthcheck:
      test: [CMD, /standin-http, check]
      interval: 500ms
      timeout: 2s
      retries: 20
    volumes:
      - data:/data
  b:
    image: ${STANDIN_IMAGE}
    environment:
      NAME: stand-in-b
    healthcheck:
      test: [CMD, /standin-http, check]
      interval: 500ms
      timeout: 2s
      retries: 20
    depends_on:
      a:
        condition: service_healthy
volumes:
  data:
`;

async function startEngine(): Promise<Docker> {
  daemon = await startDockerd({ dir, ownNetns: true });
  return new Docker({ socketPath: daemon.socketPath });
}

const orchestrate = (docker: Docker, progress?: (p: StackProgress) => void) =>
  new Orchestrator(
    docker,
    parseCompose(composeText, { file: 'test compose', baseDir: '/tmp', env: {} }),
    progress,
    daemon!.host,
  );

type Dial = (options: { method?: string; path?: string }, callback: (error: unknown, data: unknown) => void) => unknown;

/**
 * The requests a Docker client makes, seen from inside it (docker-modem's dial): which are open,
 * which were answered (a stream counts as answered once its headers came), and a hook per request.
 */
function watchRequests(docker: Docker, onDial: (request: string) => void = () => {}) {
  const modem = docker.modem as unknown as { dial: Dial };
  const dial = modem.dial.bind(modem);
  const open = new Set<number>();
  const answered: string[] = [];
  let next = 0;
  modem.dial = (options, callback) => {
    const [id, request] = [next++, `${options.method} ${options.path}`];
    open.add(id);
    const result = dial(options, (error, data) => {
      open.delete(id);
      answered.push(request);
      callback(error, data);
    });
    onDial(request);
    return result;
  };
  return { open: () => open.size, answered: () => answered };
}

/** `up` waits on the events stream: the stream is open, the current state read, nothing else in flight. */
function waitingOnEvents(requests: ReturnType<typeof watchRequests>): boolean {
  const answered = requests.answered();
  const events = answered.findIndex((r) => r.startsWith('GET /events'));
  const inspected = answered.slice(events + 1).some((r) => /^GET \/containers\/[^/]+\/json/.test(r));
  return events >= 0 && inspected && requests.open() === 0;
}

afterAll(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('the stack orchestrator when the Docker daemon dies mid-up (stand-in services)', () => {
  it.each([
    { when: 'while it starts a', during: 'request' as const }, // the start request just sent
    { when: 'while up waits for a to be healthy', during: 'wait' as const }, // up listens on the events stream
  ])(
    'says so in one line when dockerd is killed $when, and a second up finishes (stand-in)',
    async ({ during }) => {
      await daemon?.stop(); // what a failed case before left
      let docker = await startEngine(); // throws, failing the test, when dockerd cannot start
      await ensureStandinImage(docker);

      const killed = daemon!.pid;
      let killedAt = 0;
      const kill = () => {
        if (killedAt) return;
        killedAt = performance.now();
        process.kill(killed, 'SIGKILL');
      };
      // Killed at a point seen from inside the client: as the start request for a goes out, or once up
      // sits on the events stream (a needs 3 s to be healthy, so it is still waiting then).
      const startA = `POST /containers/${containerName(project, 'a')}/start`;
      const requests = watchRequests(docker, (request) => during === 'request' && request.startsWith(startA) && kill());
      const failing = orchestrate(docker)
        .up('core')
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      if (during === 'wait') {
        await until('up waiting on the events stream', () => waitingOnEvents(requests), 30_000, 5);
        kill();
      }
      const failure = await failing;
      const reactedMs = performance.now() - killedAt;
      expect(killedAt, 'dockerd was never killed: up did not get there').toBeGreaterThan(0);
      expect(failure).toBeInstanceOf(MakerdeckError);
      const { code, message } = failure as MakerdeckError;
      // From the broken connection itself, not from a timeout running out.
      expect(code).toBe('UNAVAILABLE');
      expect(message).not.toMatch(/\n|\s+at .+:\d+:\d+/); // one line, no stack
      expect(message).toMatch(
        /^The Docker engine went away while starting the stack \(.+\): start Docker again, then run makerdeck stack up to finish$/,
      );
      console.log(`daemon-fault ${during}: up failed ${reactedMs.toFixed(1)} ms after SIGKILL`);

      // Docker comes back once the old one is gone (up may have seen its socket close before that).
      await until('the killed dockerd gone', () => !pidAlive(killed), 5000);
      docker = await startEngine(); // same dir: same data root and exec root, as after a crash and restart
      const status = await orchestrate(docker).up('core');
      expect(status.map((s) => [s.name, s.state, s.health])).toEqual([
        ['a', 'running', 'healthy'],
        ['b', 'running', 'healthy'],
      ]);

      await orchestrate(docker).down({ removeVolumes: true });
      expect(await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${project}`] } })).toEqual(
        [],
      );
      await daemon!.stop();
      daemon = undefined;
    },
    120_000,
  );
});
