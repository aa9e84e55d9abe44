// A Compose service → the Docker Engine API's container-create body, with the labels Docker
// Desktop and `docker compose ps` use, and a hash of the spec so `up` can tell what changed.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { ComposeService } from './compose';

export const LABEL_PROJECT = 'com.docker.compose.project';
export const LABEL_SERVICE = 'com.docker.compose.service';
export const LABEL_HASH = 'dev.makerdeck.config-hash';

export const containerName = (project: string, service: string) => `${project}-${service}-1`;
export const networkName = (project: string) => `${project}_default`;
export const volumeName = (project: string, volume: string) => `${project}_${volume}`;

const ns = (ms: number) => ms * 1_000_000;

export function containerSpec(project: string, service: ComposeService): Docker.ContainerCreateOptions {
  const body: Docker.ContainerCreateOptions = {
    name: containerName(project, service.name),
    Image: service.image,
    Hostname: service.hostname,
    Env: Object.entries(service.environment).map(([key, value]) => `${key}=${value}`),
    Cmd: service.command,
    ExposedPorts: Object.fromEntries(service.ports.map((p) => [`${p.containerPort}/${p.protocol}`, {}])),
    Healthcheck: service.healthcheck && {
      Test: ['CMD', ...service.healthcheck.test],
      Interval: ns(service.healthcheck.intervalMs),
      Timeout: ns(service.healthcheck.timeoutMs),
      Retries: service.healthcheck.retries,
      StartPeriod: ns(service.healthcheck.startPeriodMs),
    },
    HostConfig: {
      PortBindings: Object.fromEntries(
        service.ports.map((p) => [
          `${p.containerPort}/${p.protocol}`,
          [{ HostIp: p.hostIp, HostPort: String(p.hostPort) }],
        ]),
      ),
      Mounts: service.volumes.map((v) => ({
        Type: v.kind,
        Source: v.kind === 'volume' ? volumeName(project, v.source) : v.source,
        Target: v.target,
        ReadOnly: v.readOnly,
      })),
      RestartPolicy: { Name: service.restart === 'no' ? '' : service.restart },
      NetworkMode: networkName(project),
    },
    NetworkingConfig: { EndpointsConfig: { [networkName(project)]: { Aliases: [service.name] } } },
  };
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
  body.Labels = { ...service.labels, [LABEL_PROJECT]: project, [LABEL_SERVICE]: service.name, [LABEL_HASH]: hash };
  return body;
}
