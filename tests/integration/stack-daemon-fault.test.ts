// Fault test: the Docker daemon dies in the middle of `up` (stand-in services). `up` must say so in
// one line within seconds, and once the daemon is back a second `up` must finish the stack.
// It runs its own dockerd, in a network namespace of its own (so beside the one npm test starts),
// and SIGKILLs it: a crash, not a clean stop.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { startDockerd } from '../../scripts/services/dockerd.js';
import { pidAlive, sleep } from '../../scripts/services/proc.js';
import { MakerdeckError } from '../../electron/contract';
import { parseCompose } from '../../electron/core/stack/compose';
import { LABEL_PROJECT } from '../../electron/core/stack/containerSpec';
import { Orchestrator, type StackProgress } from '../../electron/core/stack/orchestrator';
import { ensureStandinImage, STANDIN_IMAGE } from '../support/standinImage';

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

afterAll(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('the stack orchestrator when the Docker daemon dies mid-up (stand-in services)', () => {
  it.each([
    { when: 'while it starts a', at: 'a:start', delayMs: 0 }, // a request in flight
    { when: 'while up waits for a to be healthy', at: 'a:wait', delayMs: 1000 }, // up listens on the events stream
  ])(
    'says so in one line when dockerd is killed $when, and a second up finishes (stand-in)',
    async ({ at, delayMs }) => {
      await daemon?.stop(); // what a failed case before left
      let docker = await startEngine(); // throws, failing the test, when dockerd cannot start
      await ensureStandinImage(docker);

      const killed = daemon!.pid;
      let armed = false;
      let killedAt = 0;
      const failure = await orchestrate(docker, (p) => {
        if (`${p.service}:${p.phase}` !== at || armed) return;
        armed = true;
        setTimeout(() => {
          killedAt = Date.now();
          process.kill(killed, 'SIGKILL');
        }, delayMs);
      })
        .up('core')
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      const rejectedMs = Date.now() - killedAt;
      expect(killedAt, 'dockerd was never killed: up did not reach ' + at).toBeGreaterThan(0);
      expect(failure).toBeInstanceOf(MakerdeckError);
      const { code, message } = failure as MakerdeckError;
      expect(['UNAVAILABLE', 'TIMEOUT']).toContain(code);
      expect(message).not.toMatch(/\n|\s+at .+:\d+:\d+/); // one line, no stack
      expect(message).toMatch(
        /^The Docker engine went away while starting the stack \(.+\): start Docker again, then run makerdeck stack up to finish$/,
      );
      expect(rejectedMs).toBeLessThan(10_000);

      // Docker comes back once the old one is gone (up may have seen its socket close before that).
      for (let i = 0; i < 100 && pidAlive(killed); i++) await sleep(50);
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
