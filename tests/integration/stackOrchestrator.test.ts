// The orchestrator on a real Docker engine (the dockerd npm test starts), with stand-in services:
// a static HTTP server image made with `docker import`, named "stand-in" in every test.
import net from 'node:net';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCompose } from '../../electron/core/stack/compose';
import { LABEL_PROJECT } from '../../electron/core/stack/containerSpec';
import { Orchestrator, type StackProgress } from '../../electron/core/stack/orchestrator';
import { dockerEndpoint } from '../../electron/core/stack/dockerClient';
import { freePort } from '../../scripts/services/ports.js';
import { requiredEnv } from '../support/env';
import { ensureStandinImage, STANDIN_IMAGE } from '../support/standinImage';
import { until } from '../support/wait';

const project = `mdtest${process.pid}`;
let docker: Docker;

function composeText(ports: { a: number; c: number }, extra = ''): string {
  const health = (readyAfter: string, retries = 20) =>
    `    environment:\n      READY_AFTER: ${readyAfter}\n    healthcheck:\n      test: [CMD, /standin-http, check]\n      interval: 500ms\n      timeout: 2s\n      retries: ${retries}\n`;
  return `name: ${project}
services:
  a:
    image: ${STANDIN_IMAGE}
    restart: unless-stopped
${health('1s')}    volumes:
      - data:/data
    ports:
      - 127.0.0.1:${ports.a}:8080
  b:
    image: ${STANDIN_IMAGE}
${health('0s')}    depends_on:
      a:
        condition: service_healthy
  c:
    image: ${STANDIN_IMAGE}
    ports:
      - 127.0.0.1:${ports.c}:8080
${extra}volumes:
  data:
`;
}

const orchestrate = (text: string, progress?: (p: StackProgress) => void) =>
  new Orchestrator(docker, parseCompose(text, { file: 'test compose', baseDir: '/tmp', env: {} }), progress);

beforeAll(async () => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  docker = new Docker(dockerEndpoint(process.env).options);
  await ensureStandinImage(docker);
}, 120_000);

afterAll(async () => {
  if (!docker) return;
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${project}`] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
  await docker
    .getVolume(`${project}_data`)
    .remove()
    .catch(() => undefined);
  await docker
    .getNetwork(`${project}_default`)
    .remove()
    .catch(() => undefined);
});

describe('the stack orchestrator on a real Docker engine (stand-in services)', () => {
  let ports: { a: number; c: number };

  it('starts services in dependency order, waits for health, and labels them like Compose (stand-in)', async () => {
    ports = { a: await freePort(), c: await freePort() };
    const events: StackProgress[] = [];
    const status = await orchestrate(composeText(ports), (p) => events.push(p)).up('core');
    expect(status.map((s) => [s.name, s.state, s.health])).toEqual([
      ['a', 'running', 'healthy'],
      ['b', 'running', 'healthy'],
      ['c', 'running', undefined],
    ]);
    const order = events.map((e) => `${e.service}:${e.phase}`);
    expect(order.indexOf('a:healthy')).toBeLessThan(order.indexOf('b:create'));
    const labelled = await docker.listContainers({
      filters: { label: [`${LABEL_PROJECT}=${project}`, 'com.docker.compose.service=a'] },
    });
    expect(labelled).toHaveLength(1);
    expect(await (await fetch(`http://127.0.0.1:${ports.a}/boots`)).text()).toBe('1');
  }, 60_000);

  it('treats up on a running stack as a no-op (stand-in)', async () => {
    const before = await docker.getContainer(`${project}-a-1`).inspect();
    const events: StackProgress[] = [];
    await orchestrate(composeText(ports), (p) => events.push(p)).up('core');
    expect((await docker.getContainer(`${project}-a-1`).inspect()).Id).toBe(before.Id);
    expect(events.filter((e) => e.phase === 'create' || e.phase === 'start')).toEqual([]);
  }, 60_000);

  it('stops one service and restarts another until healthy again (stand-in)', async () => {
    const stack = orchestrate(composeText(ports));
    await stack.stop('c');
    await stack.restart('a');
    const states = Object.fromEntries((await stack.status('core')).map((s) => [s.name, [s.state, s.health]]));
    expect(states).toEqual({ a: ['running', 'healthy'], b: ['running', 'healthy'], c: ['exited', undefined] });
    expect(await (await fetch(`http://127.0.0.1:${ports.a}/boots`)).text()).toBe('2'); // restarted, same volume
    await expect(stack.restart('nope')).rejects.toThrow('The stack has no service "nope"');
    await stack.up('core'); // brings c back
  }, 60_000);

  it('follows a log as it grows, demultiplexed, until the service stops or is cancelled (stand-in)', async () => {
    const stack = orchestrate(composeText(ports));
    const lines: string[] = [];
    const following = stack.followLogs('a', 1, (batch) => lines.push(...batch), new AbortController().signal);
    await until('the tail: its boot line', () => lines.length === 1, 10_000);
    for (const n of [1, 2, 3]) await fetch(`http://127.0.0.1:${ports.a}/log?line=follow-${n}`);
    await until('the three new lines', () => lines.length === 4, 10_000);
    await stack.stop('a'); // a stopped container ends the stream
    await following;
    expect(lines).toEqual([
      expect.stringMatching(/^stand-in service listening on 8080 \(boot 2\)$/),
      'follow-1',
      'follow-2',
      'follow-3',
    ]);
    const cancel = new AbortController();
    const idle = stack.followLogs('b', 1, () => {}, cancel.signal);
    cancel.abort();
    await expect(idle).resolves.toBeUndefined();
    await stack.up('core');
  }, 60_000);

  it('keeps volumes across down and up (stand-in)', async () => {
    await orchestrate(composeText(ports)).down();
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${project}`] } })).toEqual([]);
    await orchestrate(composeText(ports)).up('core');
    expect(await (await fetch(`http://127.0.0.1:${ports.a}/boots`)).text()).toBe('4');
  }, 60_000);

  it('starts a service_started dependent beside its dependency, before that one is healthy (stand-in)', async () => {
    const name = `${project}s`;
    const text = `name: ${name}
services:
  slow:
    image: ${STANDIN_IMAGE}
    environment:
      READY_AFTER: 5s
    healthcheck:
      test: [CMD, /standin-http, check]
      interval: 500ms
      timeout: 2s
      retries: 30
  follower:
    image: ${STANDIN_IMAGE}
    depends_on:
      slow:
        condition: service_started
`;
    const events: StackProgress[] = [];
    const stack = new Orchestrator(
      docker,
      parseCompose(text, { file: 'test compose', baseDir: '/tmp', env: {} }),
      (p) => events.push(p),
    );
    try {
      const status = await stack.up('core');
      expect(status.map((s) => [s.name, s.state, s.health])).toEqual([
        ['slow', 'running', 'healthy'],
        ['follower', 'running', undefined],
      ]);
      const order = events.map((e) => `${e.service}:${e.phase}`);
      expect(order.indexOf('slow:start')).toBeLessThan(order.indexOf('follower:start'));
      expect(order.indexOf('follower:running')).toBeLessThan(order.indexOf('slow:healthy'));
    } finally {
      await stack.down({ removeVolumes: true });
    }
  }, 60_000);

  it('names a port that is already taken (stand-in)', async () => {
    const blocker = net.createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
    try {
      const text = composeText(
        ports,
        `  d:\n    image: ${STANDIN_IMAGE}\n    ports:\n      - 127.0.0.1:${taken}:8080\n`,
      );
      await expect(orchestrate(text).up('core')).rejects.toThrow(
        new RegExp(`d cannot start: port ${taken} is already in use`),
      );
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('says which service never became healthy, with its last log line (stand-in)', async () => {
    const text = composeText(
      ports,
      `  e:\n    image: ${STANDIN_IMAGE}\n    environment:\n      READY_AFTER: 1h\n      NAME: never-ready\n    healthcheck:\n      test: [CMD, /standin-http, check]\n      interval: 300ms\n      timeout: 1s\n      retries: 2\n`,
    );
    const started = Date.now();
    await expect(orchestrate(text).up('core')).rejects.toThrow(
      /e did not become healthy: its last log line is ".*stand-in never-ready listening on 8080 \(boot 1\)"/,
    );
    expect(Date.now() - started).toBeLessThan(8000); // the unhealthy event ends the wait; no need to sit out the timeout
  }, 60_000);

  it('explains a pull that fails offline and suggests the image bundle', async () => {
    const text = composeText(ports, `  f:\n    image: makerdeck-test/not-here:9\n`);
    await expect(orchestrate(text).up('core')).rejects.toThrow(
      /Cannot download makerdeck-test\/not-here:9 \(.+\): when offline, import the class image bundle with makerdeck stack import-images FILE/,
    );
  }, 60_000);

  it('reset removes the containers and the volumes (stand-in)', async () => {
    await orchestrate(composeText(ports)).down({ removeVolumes: true });
    expect(
      await docker
        .getVolume(`${project}_data`)
        .inspect()
        .catch(() => undefined),
    ).toBeUndefined();
    expect(
      await docker
        .getNetwork(`${project}_default`)
        .inspect()
        .catch(() => undefined),
    ).toBeUndefined();
  }, 60_000);
});

describe('the class image bundle (docker save / load on the real engine, stand-in image)', () => {
  it('exports the images to one file and imports them back; a damaged file is reported in one line', async () => {
    const { mkdtempSync, rmSync, writeFileSync, statSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { exportImages, importImages } = await import('../../electron/core/stack/imageBundle');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-bundle-'));
    try {
      const file = path.join(dir, 'bundle.tar');
      const bytes = await exportImages(docker, [STANDIN_IMAGE], file, () => {});
      expect(statSync(file).size).toBe(bytes);
      await docker.getImage(STANDIN_IMAGE).remove({ force: true });
      expect(await importImages(docker, file, () => {})).toEqual([STANDIN_IMAGE]);
      expect((await docker.getImage(STANDIN_IMAGE).inspect()).RepoTags).toContain(STANDIN_IMAGE);
      const corrupt = path.join(dir, 'corrupt.tar');
      writeFileSync(corrupt, Buffer.alloc(4096, 7));
      await expect(importImages(docker, corrupt, () => {})).rejects.toThrow(
        /corrupt\.tar is damaged or not a Docker image bundle \(.+\): copy it again/,
      );
      await expect(
        exportImages(docker, ['makerdeck-test/absent:1'], path.join(dir, 'x.tar'), () => {}),
      ).rejects.toThrow(/not on this computer, so they cannot be exported: makerdeck-test\/absent:1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
