import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCompose } from '../../electron/core/stack/compose';
import { LABEL_HASH, containerSpec } from '../../electron/core/stack/containerSpec';
import { repoRoot } from '../support/env';

const text = readFileSync(path.join(repoRoot, 'stack', 'compose.yaml'), 'utf8');
const env = { MAKERDECK_RABBITMQ_PASSWORD: 'r', MAKERDECK_INFLUXDB_PASSWORD: 'i', MAKERDECK_GRAFANA_PASSWORD: 'g' };

/** Each service's spec hash, which `up` compares to decide what to re-create. */
function hashes(bind: string): Record<string, string> {
  const project = parseCompose(text, {
    file: 'stack/compose.yaml',
    baseDir: path.join(repoRoot, 'stack'),
    env: { ...env, MAKERDECK_BROKER_BIND: bind },
  });
  return Object.fromEntries(project.services.map((s) => [s.name, containerSpec(project.name, s).Labels![LABEL_HASH]!]));
}

describe('containerSpec', () => {
  it("changes the broker's hash alone when its MQTT binding moves between loopback and the LAN", () => {
    const loopback = hashes('127.0.0.1');
    const lan = hashes('0.0.0.0');
    const changed = Object.keys(loopback).filter((name) => loopback[name] !== lan[name]);
    expect(changed).toEqual(['rabbitmq']);
    expect(hashes('127.0.0.1')).toEqual(loopback); // stable: the same choice re-creates nothing
  });

  it('publishes only 1883 on every interface with the LAN choice; the console stays on loopback', () => {
    const project = parseCompose(text, {
      file: 'stack/compose.yaml',
      baseDir: path.join(repoRoot, 'stack'),
      env: { ...env, MAKERDECK_BROKER_BIND: '0.0.0.0' },
    });
    const bindings = project.services.flatMap((s) =>
      Object.entries(
        containerSpec(project.name, s).HostConfig!.PortBindings as Record<string, Array<{ HostIp: string }>>,
      )
        .filter(([, [binding]]) => binding!.HostIp !== '127.0.0.1')
        .map(([port, [binding]]) => `${s.name} ${port} ${binding!.HostIp}`),
    );
    expect(bindings).toEqual(['rabbitmq 1883/tcp 0.0.0.0']);
  });
});
