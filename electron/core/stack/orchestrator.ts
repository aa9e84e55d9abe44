// The backing stack on the Docker Engine API: `up` creates what is missing, each service as soon
// as its dependencies are started or healthy (as its depends_on asks), and waits for health through
// the events stream; `down` keeps the volumes; `reset` deletes them. Re-running `up` is a no-op for
// what already runs as declared, so a crash half-way leaves nothing a second `up` cannot finish.
import type Docker from 'dockerode';
import { MakerdeckError, type StackProgressEvent } from '../../contract';
import { withTimeout } from '../timeout';
import { servicesOf, startOrder, type ComposeProject, type ComposeService } from './compose';
import { ContainerEvents } from './containerEvents';
import {
  LABEL_HASH,
  LABEL_PROJECT,
  LABEL_SERVICE,
  containerName,
  containerSpec,
  networkName,
  volumeName,
} from './containerSpec';
import { explainDockerError, pingDocker } from './dockerClient';
import { followLogs, readLogs } from './serviceLogs';

export type StackProgress = Omit<StackProgressEvent, 'operationId'>;

export interface ServiceStatus {
  name: string;
  state: string;
  health?: string;
  ports: Array<{ hostIp: string; hostPort: number; containerPort: number }>;
  startedAt?: string;
  /** The compose profiles the service is in (none: every profile). */
  profiles?: string[];
}

const PING_TIMEOUT_MS = 3000;

/** Socket errors that mean the engine is gone, not that it refused a request (those carry a statusCode). */
const ENGINE_GONE = new Map([
  ['ECONNREFUSED', 'connection refused'],
  ['ECONNRESET', 'connection reset'],
  ['EPIPE', 'connection broken'],
  ['ENOENT', 'its socket is gone'],
]);

function engineGone(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? ENGINE_GONE.get(code) : undefined;
}

export class Orchestrator {
  constructor(
    private readonly docker: Docker,
    private readonly project: ComposeProject,
    private readonly progress: (p: StackProgress) => void = () => {},
    /** Where the engine is, for error messages (e.g. unix:///var/run/docker.sock). */
    private readonly where = 'the Docker engine',
  ) {}

  /**
   * Starts the profile's services and resolves when all are healthy (or running, without a
   * healthcheck). `ready` runs as each one gets there — work that needs that service alone starts
   * then instead of after the slowest one — and `up` waits for it too.
   */
  async up(
    profile: string,
    signal?: AbortSignal,
    ready?: (service: ComposeService) => Promise<void> | void,
  ): Promise<ServiceStatus[]> {
    await this.ping();
    await this.bringUp(servicesOf(this.project, profile), signal, ready);
    return this.status(profile);
  }

  /**
   * `up` for one service alone: re-creates it when its spec changed (a new port binding, say) and
   * waits for it, leaving every other container as it is (its dependants reconnect by themselves).
   */
  async upService(
    name: string,
    signal?: AbortSignal,
    ready?: (service: ComposeService) => Promise<void> | void,
  ): Promise<void> {
    await this.ping();
    const service = this.project.services.find((s) => s.name === name);
    if (!service) throw new MakerdeckError('NOT_FOUND', `The stack has no service "${name}"`);
    await this.bringUp([service], signal, ready);
  }

  private async bringUp(
    services: ComposeService[],
    signal?: AbortSignal,
    ready?: (service: ComposeService) => Promise<void> | void,
  ): Promise<void> {
    const opening = ContainerEvents.open(this.docker, this.project.name);
    try {
      const [events] = await Promise.all([
        opening,
        this.ensureImages(services),
        this.ensureNetwork(),
        this.ensureVolumes(services),
      ]);
      await this.startAll(services, events, signal, ready);
    } catch (error) {
      throw this.wentAway(error, 'starting the stack', 'makerdeck stack up') ?? error;
    } finally {
      await opening.then(
        (events) => events.close(),
        () => {},
      );
    }
  }

  /**
   * Each service starts once its dependencies meet their condition (service_started: their
   * container runs; service_healthy: their healthcheck passed). The first failure stops the rest.
   */
  private async startAll(
    services: ComposeService[],
    events: ContainerEvents,
    signal: AbortSignal | undefined,
    ready?: (service: ComposeService) => Promise<void> | void,
  ): Promise<void> {
    const failed = new AbortController();
    const stop = signal ? AbortSignal.any([signal, failed.signal]) : failed.signal;
    const started = new Map<string, Promise<void>>();
    const done = new Map<string, Promise<void>>();
    for (const service of startOrder(services).flat()) {
      const needs = service.dependsOn
        .filter((d) => done.has(d.service))
        .map((d) => (d.condition === 'service_healthy' ? done : started).get(d.service)!);
      const start = Promise.all(needs).then(() => this.startService(service, stop));
      started.set(service.name, start);
      done.set(
        service.name,
        start.then(() => this.settle(service, events, stop, ready)),
      );
    }
    const stopTheRest = (error: unknown) => {
      failed.abort();
      throw error;
    };
    await Promise.all([...done.values()].map((p) => p.catch(stopTheRest)));
  }

  private async settle(
    service: ComposeService,
    events: ContainerEvents,
    signal: AbortSignal,
    ready?: (service: ComposeService) => Promise<void> | void,
  ): Promise<void> {
    if (service.healthcheck) await this.waitHealthy(service, events, signal);
    this.progress({ service: service.name, phase: service.healthcheck ? 'healthy' : 'running' });
    await ready?.(service);
  }

  /** Stops one service's container (it stays, with its data, until down). */
  async stop(service: string): Promise<void> {
    await this.ping();
    const container = await this.existing(service);
    this.progress({ service, phase: 'stop' });
    await container.stop({ t: 10 }).catch((error: { statusCode?: number }) => {
      if (error?.statusCode !== 304) throw error; // 304: already stopped
    });
  }

  /** Restarts one service and waits for it to be healthy again. */
  async restart(service: string, signal?: AbortSignal): Promise<void> {
    await this.ping();
    const spec = this.project.services.find((s) => s.name === service)!;
    const container = await this.existing(service);
    this.progress({ service, phase: 'start' });
    const events = await ContainerEvents.open(this.docker, this.project.name);
    try {
      await container.restart({ t: 10 });
      if (spec.healthcheck) await this.waitHealthy(spec, events, signal);
    } catch (error) {
      throw this.wentAway(error, `restarting ${service}`, `makerdeck stack restart ${service}`) ?? error;
    } finally {
      events.close();
    }
    this.progress({ service, phase: spec.healthcheck ? 'healthy' : 'running' });
  }

  /**
   * One line for a connection to the engine that broke or was refused half-way — the daemon crashed,
   * was stopped or restarted — instead of "a cannot start: socket hang up" or a health-check wait
   * that sits out its timeout. What was done so far stays, and the next run finishes it.
   */
  private wentAway(error: unknown, doing: string, again: string): MakerdeckError | undefined {
    const what = engineGone(error);
    if (!what) return undefined;
    return new MakerdeckError(
      'UNAVAILABLE',
      `The Docker engine went away while ${doing} (${what} at ${this.where}): start Docker again, then run ${again} to finish`,
    );
  }

  private async existing(service: string): Promise<Docker.Container> {
    if (!this.project.services.some((s) => s.name === service))
      throw new MakerdeckError('NOT_FOUND', `The stack has no service "${service}"`);
    const container = this.docker.getContainer(containerName(this.project.name, service));
    if (!(await container.inspect().catch(ignoreMissing)))
      throw new MakerdeckError('NOT_FOUND', `${service} is not created yet: start the stack first`);
    return container;
  }

  /** Removes every container of the project (any profile, orphans too); volumes stay unless asked. */
  async down(options: { removeVolumes?: boolean } = {}): Promise<void> {
    await this.ping();
    const project = { label: [`${LABEL_PROJECT}=${this.project.name}`] };
    const containers = await this.docker.listContainers({ all: true, filters: project });
    await Promise.all(
      containers.map(async (container) => {
        this.progress({
          service: container.Labels[LABEL_SERVICE] ?? container.Names[0] ?? container.Id,
          phase: 'remove',
        });
        // v: true removes anonymous volumes too, which would otherwise leak on every recreate.
        await this.docker.getContainer(container.Id).remove({ force: true, v: true }).catch(ignoreMissing);
      }),
    );
    if (options.removeVolumes) {
      const { Volumes } = await this.docker.listVolumes({ filters: project });
      for (const volume of Volumes ?? []) await this.docker.getVolume(volume.Name).remove().catch(ignoreMissing);
    }
    await this.docker.getNetwork(networkName(this.project.name)).remove().catch(ignoreMissing);
  }

  async status(profile: string): Promise<ServiceStatus[]> {
    return Promise.all(
      servicesOf(this.project, profile).map(async (service): Promise<ServiceStatus> => {
        const info = await this.inspect(service.name);
        if (!info) return { name: service.name, state: 'missing', ports: [], profiles: service.profiles };
        return {
          name: service.name,
          profiles: service.profiles,
          state: info.State.Status,
          health: info.State.Health?.Status,
          ports: service.ports.map(({ hostIp, hostPort, containerPort }) => ({ hostIp, hostPort, containerPort })),
          startedAt: info.State.Running ? info.State.StartedAt : undefined,
        };
      }),
    );
  }

  private ping(): Promise<void> {
    return checkDockerEngine(this.docker, this.where);
  }

  /** Looks all images up at once; pulls the missing ones one by one (one progress bar at a time). */
  private async ensureImages(services: ComposeService[]): Promise<void> {
    const images = [...new Set(services.map((s) => s.image))];
    const present = await Promise.all(
      images.map((image) =>
        this.docker
          .getImage(image)
          .inspect()
          .then(
            () => true,
            () => false,
          ),
      ),
    );
    for (const image of images.filter((_, i) => !present[i])) await this.pull(image);
  }

  /** Pulls with per-layer progress; followProgress reports err = null even when an item failed. */
  private async pull(image: string): Promise<void> {
    const layers = new Map<string, { current: number; total: number }>();
    try {
      const stream = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(
          stream,
          (error: Error | null, items: Array<{ error?: string }>) => {
            const failed = error?.message ?? items.find((item) => item.error)?.error;
            return failed ? reject(new Error(failed)) : resolve();
          },
          (event: { id?: string; progressDetail?: { current?: number; total?: number } }) => {
            if (!event.id || !event.progressDetail?.total) return;
            layers.set(event.id, { current: event.progressDetail.current ?? 0, total: event.progressDetail.total });
            const totals = [...layers.values()].reduce(
              (sum, l) => ({ current: sum.current + l.current, total: sum.total + l.total }),
              { current: 0, total: 0 },
            );
            this.progress({
              service: image,
              phase: 'pull',
              message: `${layers.size} layers`,
              bytesDone: totals.current,
              bytesTotal: totals.total,
            });
          },
        ),
      );
    } catch (error) {
      if (engineGone(error)) throw error; // up says that one
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      throw new MakerdeckError(
        'UNAVAILABLE',
        `Cannot download ${image} (${reason}): when offline, import the class image bundle with makerdeck stack import-images FILE`,
      );
    }
  }

  /** One round trip: CheckDuplicate makes an existing network a 409 (engines before API 1.44 would add a twin). */
  private async ensureNetwork(): Promise<void> {
    const labels = { [LABEL_PROJECT]: this.project.name, 'com.docker.compose.network': 'default' };
    await this.docker
      .createNetwork({ Name: networkName(this.project.name), Driver: 'bridge', CheckDuplicate: true, Labels: labels })
      .catch(ignoreConflict);
  }

  /** Creating a volume that exists is a no-op for the engine. */
  private async ensureVolumes(services: ComposeService[]): Promise<void> {
    const volumes = new Set(services.flatMap((s) => s.volumes.filter((v) => v.kind === 'volume').map((v) => v.source)));
    await Promise.all(
      [...volumes].map((volume) =>
        this.docker.createVolume({
          Name: volumeName(this.project.name, volume),
          Labels: { [LABEL_PROJECT]: this.project.name, 'com.docker.compose.volume': volume },
        }),
      ),
    );
  }

  /** Creates (or re-creates, when its spec changed) and starts the service's container. */
  private async startService(service: ComposeService, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const spec = containerSpec(this.project.name, service);
    let info = await this.inspect(service.name);
    if (info && info.Config.Labels?.[LABEL_HASH] !== spec.Labels?.[LABEL_HASH]) {
      await this.removeContainer(service.name);
      info = undefined;
    }
    if (!info) {
      this.progress({ service: service.name, phase: 'create' });
      await this.docker.createContainer(spec);
    }
    if (!info?.State.Running) {
      this.progress({ service: service.name, phase: 'start' });
      await this.docker
        .getContainer(spec.name!)
        .start()
        .catch((error: unknown) => {
          throw engineGone(error) ? error : explainStartError(service, error); // up says that one
        });
    }
  }

  /** Waits on the events stream for health_status, checking the current state first. */
  private async waitHealthy(service: ComposeService, events: ContainerEvents, signal?: AbortSignal): Promise<void> {
    const check = service.healthcheck!;
    const limitMs = check.startPeriodMs + (check.intervalMs + check.timeoutMs) * (check.retries + 1) + 5000;
    const name = containerName(this.project.name, service.name);
    this.progress({
      service: service.name,
      phase: 'wait',
      message: `waiting up to ${Math.round(limitMs / 1000)} s for it to be healthy`,
    });
    let cleanup = () => {};
    try {
      await withTimeout(limitMs, `${service.name}'s health check`, async (timeout) => {
        await new Promise<void>((resolve, reject) => {
          const stop = () =>
            reject(new MakerdeckError('CANCELLED', 'Starting the stack was cancelled; run up again to finish'));
          if (signal?.aborted) return stop();
          signal?.addEventListener('abort', stop, { once: true });
          timeout.addEventListener('abort', () => resolve(), { once: true });
          const unwatch = events.watch(
            name,
            (action) => {
              if (action === 'health_status: healthy') resolve();
              else if (action === 'health_status: unhealthy')
                reject(new MakerdeckError('UNAVAILABLE', `${service.name} is unhealthy`));
              else if (action === 'die')
                reject(new MakerdeckError('UNAVAILABLE', `${service.name} stopped while starting`));
            },
            reject,
          );
          cleanup = () => {
            unwatch();
            signal?.removeEventListener('abort', stop);
          };
          // Watching first, then looking: a container that is already healthy sends no event.
          this.inspect(service.name).then(
            (current) => current?.State.Health?.Status === 'healthy' && resolve(),
            reject,
          );
        });
      });
    } catch (error) {
      if (error instanceof MakerdeckError && (error.code === 'TIMEOUT' || error.code === 'UNAVAILABLE')) {
        throw new MakerdeckError(
          'UNAVAILABLE',
          `${service.name} did not become healthy: ${await this.lastLogLine(name)} — see makerdeck stack logs ${service.name}`,
        );
      }
      throw error;
    } finally {
      cleanup();
    }
  }

  /** The last lines a service logged, stdout and stderr demultiplexed. */
  async logs(service: string, tail: number): Promise<string[]> {
    return readLogs(await this.existing(service), tail);
  }

  /**
   * Streams a service's log from its last `tail` lines on, in batches (at most one per 100 ms),
   * until the container stops or `signal` aborts.
   */
  async followLogs(
    service: string,
    tail: number,
    onLines: (lines: string[]) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return followLogs(this.docker, await this.existing(service), tail, onLines, signal);
  }

  private async lastLogLine(name: string): Promise<string> {
    const service = this.project.services.find((s) => containerName(this.project.name, s.name) === name)?.name ?? name;
    const line = (await this.logs(service, 5).catch(() => [])).pop();
    return line ? `its last log line is "${line.slice(0, 200)}"` : 'it logged nothing';
  }

  private async removeContainer(service: string): Promise<void> {
    this.progress({ service, phase: 'remove' });
    await this.docker
      .getContainer(containerName(this.project.name, service))
      .remove({ force: true, v: true })
      .catch(ignoreMissing);
  }

  private inspect(service: string): Promise<Docker.ContainerInspectInfo | undefined> {
    return this.docker.getContainer(containerName(this.project.name, service)).inspect().catch(ignoreMissing);
  }
}

/** Pings the engine with a timeout (dockerode alone would wait forever on a hung daemon). */
export async function checkDockerEngine(docker: Docker, where: string): Promise<void> {
  await withTimeout(PING_TIMEOUT_MS, 'The Docker engine', (signal) => pingDocker(docker, signal)).catch(
    (error: unknown) => {
      const timedOut = error instanceof MakerdeckError && error.code === 'TIMEOUT';
      const { summary, fix } = explainDockerError(timedOut ? { code: 'TIMEOUT' } : error, {
        label: where,
        options: {},
      });
      throw new MakerdeckError(timedOut ? 'TIMEOUT' : 'UNAVAILABLE', `${summary}: ${fix}`);
    },
  );
}

function explainStartError(service: ComposeService, error: unknown): MakerdeckError {
  const message = error instanceof Error ? error.message : String(error);
  const port =
    /(?:Bind for |listen tcp4? )([\d.:]+?):(\d+)(?: failed| bind)/.exec(message) ??
    /:(\d+): bind: address already in use/.exec(message);
  if (/port is already allocated|address already in use/.test(message)) {
    const number = port?.[2] ?? port?.[1] ?? '?';
    return new MakerdeckError(
      'UNAVAILABLE',
      `${service.name} cannot start: port ${number} is already in use on this computer — stop what holds it, or change the port in stack/compose.yaml`,
    );
  }
  return new MakerdeckError('UNAVAILABLE', `${service.name} cannot start: ${message.split('\n')[0]}`);
}

function ignoreMissing(error: { statusCode?: number }): undefined {
  if (error?.statusCode === 404 || error?.statusCode === 409) return undefined;
  throw error;
}

function ignoreConflict(error: { statusCode?: number }): undefined {
  if (error?.statusCode === 409) return undefined;
  throw error;
}
