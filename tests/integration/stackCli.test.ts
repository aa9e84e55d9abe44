// `makerdeck stack …` through the CLI: failures in one line and fast, status from the real engine.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply, StackServiceView } from '../../electron/contract';
import { createHost } from '../../electron/core/host';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { hungSocket } from '../support/sockets';

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-stack-cli-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The request the CLI makes, made in this process: the product's own time, without a Node start-up. */
async function timedCall(
  name: string,
  args: unknown,
  dockerHost: string,
): Promise<{ reply: Reply<unknown>; ms: number }> {
  const host = createHost({ kind: 'cli', quiet: true, dataDir, env: { ...process.env, DOCKER_HOST: dockerHost } });
  const started = performance.now();
  const reply = await host.call(name, args);
  return { reply, ms: performance.now() - started };
}

describe('makerdeck stack', () => {
  it('fails in one clear line within 5 s when DOCKER_HOST points at a missing socket', async () => {
    const missing = 'unix:///nonexistent/docker.sock';
    const result = await runCli(['stack', 'up'], { DOCKER_HOST: missing, MAKERDECK_DATA_DIR: dataDir });
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^makerdeck: Docker is not installed or not running: nothing at unix:\/\/\/nonexistent\/docker\.sock: Install Docker/,
      ),
    ]);
    const { reply, ms } = await timedCall('stack.up', { profile: 'core' }, missing);
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    expect(ms).toBeLessThan(5000);
  });

  it('fails in one clear line within 5 s when the daemon accepts and never answers', async () => {
    const hung = await hungSocket();
    try {
      const result = await runCli(['stack', 'status', '--json'], {
        DOCKER_HOST: `unix://${hung.path}`,
        MAKERDECK_DATA_DIR: dataDir,
      });
      expect(result.code).toBe(3);
      expect(JSON.parse(result.stdout)).toEqual({
        error: {
          code: 'TIMEOUT',
          message: expect.stringMatching(/did not answer in time: The daemon is hung: restart it/),
        },
      });
      const { reply, ms } = await timedCall('stack.status', {}, `unix://${hung.path}`);
      expect(reply).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
      expect(ms).toBeLessThan(5000);
    } finally {
      await hung.close();
    }
  });

  it('lists every service of the full profile with its state from the real engine', async () => {
    requiredEnv('DOCKER_HOST', 'the test Docker daemon');
    const result = await runCli(['stack', 'status', '--json'], { MAKERDECK_DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    const services = JSON.parse(result.stdout) as StackServiceView[];
    expect(services.map((s) => s.name)).toEqual([
      'rabbitmq',
      'influxdb',
      'telegraf',
      'kapacitor',
      'chronograf',
      'grafana',
      'portainer',
    ]);
    for (const service of services) expect(['missing', 'running', 'created', 'exited']).toContain(service.state);
  });

  it('refuses reset without confirmation, and rejects an unknown profile', async () => {
    const reset = await runCli(['stack', 'reset'], { MAKERDECK_DATA_DIR: dataDir });
    expect(reset.code).toBe(2);
    expect(reset.stderr).toMatch(/add --yes to confirm/);
    const profile = await runCli(['stack', 'up', '--profile', 'mega'], { MAKERDECK_DATA_DIR: dataDir });
    expect(profile.code).toBe(2);
    expect(profile.stderr).toMatch(/--profile is core or full/);
  });
});
