// The backing stack on the Docker Engine API: `up` creates what is missing in dependency order
// (independent services in parallel) and waits for health through the events stream; `down` keeps
// the volumes; `reset` deletes them. Re-running `up` is a no-op for what already runs as declared,
// so a crash half-way leaves nothing a second `up` cannot finish.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { MakerdeckError, type StackProgressEvent } from '../../contract';
import { withTimeout } from '../timeout';
import { servicesOf, startOrder, type ComposeProject, type ComposeService } from './compose';
import { LABEL_HASH, LABEL_PROJECT, LABEL_SERVICE, containerName, containerSpec, networkName, volumeName } from './containerSpec';
import { explainDockerError, pingDocker } from './dockerClient';
import { LineBatcher } from './lineBatcher';

export type StackProgress = Omit<StackProgressEvent, 'operationId'>;

export interface ServiceStatus {
  name: string;
  state: string;
  health?: string;
  ports: Array<{ hostIp: string; hostPort: number; containerPort: number }>;
  startedAt?: string;
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

  async up(profile: string, signal?: AbortSignal): Promise<ServiceStatus[]> {
    await this.ping();
    const services = servicesOf(this.project, profile);
    try {
      await this.ensureImages(services);
      await this.ensureNetwork();
      await this.ensureVolumes(services);
      for (const wave of startOrder(services)) {
        signal?.throwIfAborted();
        await Promise.all(wave.map((service) => this.startService(service, signal)));
      }
      return await this.status(profile);
    } catch (error) {
      throw this.wentAway(error, 'starting the stack', 'makerdeck stack up') ?? error;
    }
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
    try {
      await container.restart({ t: 10 });
      if (spec.healthcheck) await this.waitHealthy(spec, signal);
    } catch (error) {
      throw this.wentAway(error, `restarting ${service}`, `makerdeck stack restart ${service}`) ?? error;
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
    return new MakerdeckError('UNAVAILABLE', `The Docker engine went away while ${doing} (${what} at ${this.where}): start Docker again, then run ${again} to finish`);
  }

  private async existing(service: string): Promise<Docker.Container> {
    if (!this.project.services.some((s) => s.name === service)) throw new MakerdeckError('NOT_FOUND', `The stack has no service "${service}"`);
    const container = this.docker.getContainer(containerName(this.project.name, service));
    if (!(await container.inspect().catch(ignoreMissing))) throw new MakerdeckError('NOT_FOUND', `${service} is not created yet: start the stack first`);
    return container;
  }

  /** Removes every container of the project (any profile, orphans too); volumes stay unless asked. */
  async down(options: { removeVolumes?: boolean } = {}): Promise<void> {
    await this.ping();
    const project = { label: [`${LABEL_PROJECT}=${this.project.name}`] };
    const containers = await this.docker.listContainers({ all: true, filters: project });
    await Promise.all(
      containers.map(async (container) => {
        this.progress({ service: container.Labels[LABEL_SERVICE] ?? container.Names[0] ?? container.Id, phase: 'remove' });
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
        if (!info) return { name: service.name, state: 'missing', ports: [] };
        return {
          name: service.name,
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

  private async ensureImages(services: ComposeService[]): Promise<void> {
    for (const image of new Set(services.map((s) => s.image))) {
      if (!(await this.docker.getImage(image).inspect().then(() => true, () => false))) await this.pull(image);
    }
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
            const totals = [...layers.values()].reduce((sum, l) => ({ current: sum.current + l.current, total: sum.total + l.total }), { current: 0, total: 0 });
            this.progress({ service: image, phase: 'pull', message: `${layers.size} layers`, bytesDone: totals.current, bytesTotal: totals.total });
          },
        ),
      );
    } catch (error) {
      if (engineGone(error)) throw error; // up says that one
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      throw new MakerdeckError('UNAVAILABLE', `Cannot download ${image} (${reason}): when offline, import the class image bundle with makerdeck stack import-images FILE`);
    }
  }

  private async ensureNetwork(): Promise<void> {
    const name = networkName(this.project.name);
    const exists = await this.docker.getNetwork(name).inspect().then(() => true, () => false);
    if (!exists) await this.docker.createNetwork({ Name: name, Driver: 'bridge', Labels: { [LABEL_PROJECT]: this.project.name, 'com.docker.compose.network': 'default' } }).catch(ignoreConflict);
  }

  private async ensureVolumes(services: ComposeService[]): Promise<void> {
    for (const volume of new Set(services.flatMap((s) => s.volumes.filter((v) => v.kind === 'volume').map((v) => v.source)))) {
      await this.docker.createVolume({ Name: volumeName(this.project.name, volume), Labels: { [LABEL_PROJECT]: this.project.name, 'com.docker.compose.volume': volume } });
    }
  }

  private async startService(service: ComposeService, signal?: AbortSignal): Promise<void> {
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
      await this.docker.getContainer(spec.name!).start().catch((error: unknown) => {
        throw engineGone(error) ? error : explainStartError(service, error); // up says that one
      });
    }
    if (service.healthcheck) await this.waitHealthy(service, signal);
    this.progress({ service: service.name, phase: service.healthcheck ? 'healthy' : 'running' });
  }

  /** Waits on the events stream for health_status, checking the current state first. */
  private async waitHealthy(service: ComposeService, signal?: AbortSignal): Promise<void> {
    const check = service.healthcheck!;
    const limitMs = check.startPeriodMs + (check.intervalMs + check.timeoutMs) * (check.retries + 1) + 5000;
    const name = containerName(this.project.name, service.name);
    this.progress({ service: service.name, phase: 'wait', message: `waiting up to ${Math.round(limitMs / 1000)} s for it to be healthy` });
    const events = (await this.docker.getEvents({ filters: { type: ['container'], container: [name], event: ['health_status', 'die'] } })) as NodeJS.ReadableStream & { destroy(): void };
    try {
      await withTimeout(limitMs, `${service.name}'s health check`, async (timeout) => {
        const current = await this.inspect(service.name);
        if (current?.State.Health?.Status === 'healthy') return;
        await new Promise<void>((resolve, reject) => {
          const stop = () => reject(new MakerdeckError('CANCELLED', 'Starting the stack was cancelled; run up again to finish'));
          signal?.addEventListener('abort', stop, { once: true });
          timeout.addEventListener('abort', () => resolve(), { once: true });
          // The stream ends (or errors, with no listener an uncaught exception) when the daemon dies:
          // a settled promise ignores this when it is destroyed below.
          const gone = () => reject(Object.assign(new Error('the engine closed the events stream'), { code: 'ECONNRESET' }));
          events.on('error', gone);
          events.on('end', gone);
          events.on('close', gone);
          events.on('data', (chunk: Buffer) => {
            const text = chunk.toString();
            if (text.includes('health_status: healthy')) resolve();
            else if (text.includes('health_status: unhealthy')) reject(new MakerdeckError('UNAVAILABLE', `${service.name} is unhealthy`));
            else if (text.includes('"status":"die"')) reject(new MakerdeckError('UNAVAILABLE', `${service.name} stopped while starting`));
          });
        });
      });
    } catch (error) {
      if (error instanceof MakerdeckError && (error.code === 'TIMEOUT' || error.code === 'UNAVAILABLE')) {
        throw new MakerdeckError('UNAVAILABLE', `${service.name} did not become healthy: ${await this.lastLogLine(name)} — see makerdeck stack logs ${service.name}`);
      }
      throw error;
    } finally {
      events.destroy();
    }
  }

  /** The last lines a service logged, stdout and stderr demultiplexed. */
  async logs(service: string, tail: number): Promise<string[]> {
    const container = await this.existing(service);
    const info = await container.inspect();
    const raw = (await container.logs({ stdout: true, stderr: true, tail, timestamps: false })) as unknown as Buffer;
    return (info.Config.Tty ? raw.toString('utf8') : demultiplex(raw)).split('\n').filter((line) => line.length > 0);
  }

  /**
   * Streams a service's log from its last `tail` lines on, in batches (at most one per 100 ms),
   * until the container stops or `signal` aborts.
   */
  async followLogs(service: string, tail: number, onLines: (lines: string[]) => void, signal: AbortSignal): Promise<void> {
    const container = await this.existing(service);
    const tty = (await container.inspect()).Config.Tty;
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true, tail })) as unknown as NodeJS.ReadableStream & { destroy(): void };
    const text = tty ? stream : new PassThrough();
    if (!tty) this.docker.modem.demuxStream(stream, text as PassThrough, text as PassThrough);
    const batch = new LineBatcher(onLines, 100);
    text.on('data', (chunk: Buffer) => batch.push(chunk.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      const finish = () => {
        batch.flush(true);
        resolve();
      };
      stream.on('end', finish);
      stream.on('error', (error: Error) => (signal.aborted ? finish() : reject(error)));
      const cancel = () => {
        stream.destroy();
        finish();
      };
      if (signal.aborted) cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    });
  }

  private async lastLogLine(name: string): Promise<string> {
    const service = this.project.services.find((s) => containerName(this.project.name, s.name) === name)?.name ?? name;
    const line = (await this.logs(service, 5).catch(() => [])).pop();
    return line ? `its last log line is "${line.slice(0, 200)}"` : 'it logged nothing';
  }

  private async removeContainer(service: string): Promise<void> {
    this.progress({ service, phase: 'remove' });
    await this.docker.getContainer(containerName(this.project.name, service)).remove({ force: true, v: true }).catch(ignoreMissing);
  }

  private inspect(service: string): Promise<Docker.ContainerInspectInfo | undefined> {
    return this.docker.getContainer(containerName(this.project.name, service)).inspect().catch(ignoreMissing);
  }
}

/** Pings the engine with a timeout (dockerode alone would wait forever on a hung daemon). */
export async function checkDockerEngine(docker: Docker, where: string): Promise<void> {
  await withTimeout(PING_TIMEOUT_MS, 'The Docker engine', (signal) => pingDocker(docker, signal)).catch((error: unknown) => {
    const timedOut = error instanceof MakerdeckError && error.code === 'TIMEOUT';
    const { summary, fix } = explainDockerError(timedOut ? { code: 'TIMEOUT' } : error, { label: where, options: {} });
    throw new MakerdeckError(timedOut ? 'TIMEOUT' : 'UNAVAILABLE', `${summary}: ${fix}`);
  });
}

/** Docker's log stream without a TTY: frames of [stream, 0, 0, 0, size (4 bytes, big-endian), payload]. */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

function explainStartError(service: ComposeService, error: unknown): MakerdeckError {
  const message = error instanceof Error ? error.message : String(error);
  const port = /(?:Bind for |listen tcp4? )([\d.:]+?):(\d+)(?: failed| bind)/.exec(message) ?? /:(\d+): bind: address already in use/.exec(message);
  if (/port is already allocated|address already in use/.test(message)) {
    const number = port?.[2] ?? port?.[1] ?? '?';
    return new MakerdeckError('UNAVAILABLE', `${service.name} cannot start: port ${number} is already in use on this computer — stop what holds it, or change the port in stack/compose.yaml`);
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
