import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCompose, servicesOf, startOrder } from '../../electron/core/stack/compose';
import { repoRoot } from '../support/env';

const file = path.join(repoRoot, 'stack', 'compose.yaml');
const env = {
  MAKERDECK_RABBITMQ_PASSWORD: 'r-pass',
  MAKERDECK_INFLUXDB_PASSWORD: 'i-pass',
  MAKERDECK_GRAFANA_PASSWORD: 'g-pass',
};
const context = { file: 'stack/compose.yaml', baseDir: path.join(repoRoot, 'stack'), env };
const parse = (text: string, extraEnv: Record<string, string> = {}) =>
  parseCompose(text, { ...context, env: { ...env, ...extraEnv } });
const minimal = (service: string) => `name: t\nservices:\n  a:\n    image: x:1\n${service}`;

describe('stack/compose.yaml', () => {
  const project = parse(readFileSync(file, 'utf8'));

  it('declares the seven services, with core = rabbitmq, influxdb, telegraf', () => {
    expect(project.name).toBe('makerdeck');
    expect(project.services.map((s) => s.name)).toEqual([
      'rabbitmq',
      'influxdb',
      'telegraf',
      'kapacitor',
      'chronograf',
      'grafana',
      'portainer',
    ]);
    expect(servicesOf(project, 'core').map((s) => s.name)).toEqual(['rabbitmq', 'influxdb', 'telegraf']);
    expect(servicesOf(project, 'full')).toHaveLength(7);
  });

  it('pins every image, restarts unless stopped, checks health and binds ports to 127.0.0.1', () => {
    for (const service of project.services) {
      expect(service.image, service.name).toMatch(/:[\w.-]+$/);
      expect(service.image).not.toMatch(/:latest$/);
      expect(service.restart).toBe('unless-stopped');
      // Portainer's image has no shell or curl, so it cannot carry a healthcheck.
      if (service.name !== 'portainer') expect(service.healthcheck, service.name).toBeDefined();
      for (const port of service.ports) expect(port.hostIp, `${service.name} ${port.hostPort}`).toBe('127.0.0.1');
    }
  });

  it('fills credentials from the environment only, and exposes the broker only when asked', () => {
    const rabbit = project.services.find((s) => s.name === 'rabbitmq')!;
    expect(rabbit.environment.RABBITMQ_DEFAULT_PASS).toBe('r-pass');
    expect(JSON.stringify(project)).not.toMatch(/admin\/admin|"admin"/);
    const lan = parse(readFileSync(file, 'utf8'), { MAKERDECK_BROKER_BIND: '0.0.0.0' });
    expect(lan.services.find((s) => s.name === 'rabbitmq')!.ports.find((p) => p.containerPort === 1883)!.hostIp).toBe(
      '0.0.0.0',
    );
    expect(() => parseCompose(readFileSync(file, 'utf8'), { ...context, env: {} })).toThrow(
      /line \d+: MAKERDECK_RABBITMQ_PASSWORD is not set: set by Makerdeck from the keychain/,
    );
  });

  it('starts independent services together and dependants after them', () => {
    expect(startOrder(servicesOf(project, 'core')).map((wave) => wave.map((s) => s.name))).toEqual([
      ['rabbitmq', 'influxdb'],
      ['telegraf'],
    ]);
    const full = startOrder(servicesOf(project, 'full')).map((wave) => wave.map((s) => s.name));
    expect(full[0]).toEqual(['rabbitmq', 'influxdb', 'portainer']);
    expect(full.flat().indexOf('chronograf')).toBeGreaterThan(full.flat().indexOf('kapacitor'));
  });

  it('gives durations, binds and volumes their meaning', () => {
    const influx = project.services.find((s) => s.name === 'influxdb')!;
    expect(influx.healthcheck).toMatchObject({ intervalMs: 2000, timeoutMs: 5000, retries: 20, startPeriodMs: 5000 });
    const telegraf = project.services.find((s) => s.name === 'telegraf')!;
    expect(telegraf.volumes[0]).toEqual({
      source: path.join(repoRoot, 'stack', 'telegraf', 'telegraf.conf'),
      kind: 'bind',
      target: '/etc/telegraf/telegraf.conf',
      readOnly: true,
    });
  });
});

describe('compose validation', () => {
  it.each([
    [
      minimal('    privileged: true\n'),
      /line 5: "privileged" in services\.a is not supported by Makerdeck's orchestrator/,
    ],
    ['name: t\nservices: {}\nsecrets: {}\n', /line 3: "secrets" at the top level is not supported/],
    ['name: t\nservices:\n  a:\n    image: nginx\n', /line 4: services\.a\.image "nginx" must pin a version tag/],
    ['name: t\nservices:\n  a:\n    image: nginx:latest\n', /must pin a version tag \(never "latest"\)/],
    [minimal('    ports: ["99999:80"]\n'), /line 5: services\.a\.ports "99999:80" must be/],
    [minimal('    volumes: ["data:/data"]\n'), /uses the volume "data", which the top-level volumes do not declare/],
    [
      minimal('    healthcheck:\n      test: [CMD, true]\n      interval: soon\n'),
      /line 7: services\.a\.healthcheck\.interval "soon" must be a duration/,
    ],
    [minimal('    depends_on: [b]\n'), /depends_on names "b", which is not a service/],
    [
      'name: t\nservices:\n  a:\n    image: x:1\n    depends_on: [b]\n  b:\n    image: y:1\n    depends_on: [a]\n',
      /depend on each other in a circle/,
    ],
    ['name: t\nservices:\n  a: [\n', /line \d+: not valid YAML/],
    [minimal('    restart: sometimes\n'), /"sometimes" is not a restart policy/],
  ])('refuses %#', (text, message) => {
    expect(() => parse(text)).toThrow(message);
  });

  it('interpolates like Compose: defaults, $$, and empty for unset', () => {
    const project = parse(
      minimal('    environment:\n      A: ${NOPE:-fallback}\n      B: $${LITERAL}\n      C: ${NOPE}\n'),
    );
    expect(project.services[0]!.environment).toEqual({ A: 'fallback', B: '${LITERAL}', C: '' });
  });
});
