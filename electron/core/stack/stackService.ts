// The stack capability for the hosts: the compose file with per-install credentials from the
// keychain, an orchestrator on the configured Docker engine, and views for the UI and CLI.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BROKER_MQTT_PORT,
  MakerdeckError,
  type StackLanView,
  type StackProgressEvent,
  type StackServiceView,
  type TelegrafLoss,
} from '../../contract';
import type { Operations } from '../operations';
import type { StackCredentials } from '../secrets/stackCredentials';
import type { SettingsFile } from '../settings/settingsFile';
import { parseCompose, servicesOf, type ComposeService } from './compose';
import { STACK_CONSOLES } from './consoles';
import type { BrokerAdmin } from './brokerUsers';
import { exportImages, importImages } from './imageBundle';
import { lanAddresses } from './lanAddresses';
import { connectDocker, dockerEndpoint } from './dockerClient';
import { Orchestrator, checkDockerEngine, type ServiceStatus, type StackProgress } from './orchestrator';
import { TelegrafLossTracker } from './telegrafLog';

/** Telegraf's log lines read to judge its recent losses (one per failed write: minutes of them). */
const TELEGRAF_LOG_TAIL = 1000;
const WATCH_RETRY_MS = 5000;

export interface StackDeps {
  env: NodeJS.ProcessEnv;
  stackDir: string;
  credentials: StackCredentials;
  /** Where the LAN choice is remembered (settings.json, `stack.lanBroker`). */
  settings: SettingsFile;
  operations: Operations;
  emit(progress: StackProgressEvent): void;
  /** Runs once the broker is healthy on `up` (the device logins' migration); returns a line to show, if any. */
  brokerReady?(admin: BrokerAdmin): Promise<string | undefined>;
}

export class StackService {
  constructor(private readonly deps: StackDeps) {}

  up(profile: 'core' | 'full', operationId?: string): Promise<StackServiceView[]> {
    return this.deps.operations.run(operationId, async (operation) => {
      const orchestrator = await this.orchestrator(operation.id);
      // The broker is provisioned as soon as it is healthy, while the rest may still be starting.
      const provision = (service: ComposeService) =>
        service.name === 'rabbitmq' ? this.provisionBroker(service, operation.id) : undefined;
      return (await orchestrator.up(profile, operation.signal, provision)).map(view);
    });
  }

  /** Hands the healthy broker's management API to the device logins (deviceAccounts.ts). */
  private async provisionBroker(rabbitmq: ComposeService, operationId: string): Promise<void> {
    const admin = await this.adminOf(rabbitmq);
    const message = admin && (await this.deps.brokerReady?.(admin));
    if (message) this.deps.emit({ operationId, service: 'rabbitmq', phase: 'provision', message });
  }

  /** The local broker's management API with the admin login; the stack must be up. */
  async brokerAdmin(): Promise<BrokerAdmin> {
    const { project } = await this.context();
    const rabbitmq = servicesOf(project, 'core').find((s) => s.name === 'rabbitmq');
    const admin = rabbitmq && (await this.adminOf(rabbitmq));
    if (!admin)
      throw new MakerdeckError('UNAVAILABLE', 'The stack has no RabbitMQ management port: check stack/compose.yaml');
    return admin;
  }

  private async adminOf(rabbitmq: ComposeService): Promise<BrokerAdmin | undefined> {
    const management = rabbitmq.ports.find((p) => p.containerPort === 15672);
    if (!management) return undefined;
    return {
      managementUrl: `http://${reachableHost(management.hostIp)}:${management.hostPort}`,
      username: adminUser(this.deps.env),
      password: await this.deps.credentials.ensure('rabbitmq-admin'),
    };
  }

  /** The LAN choice and this computer's LAN addresses; needs no Docker. */
  async lan(): Promise<StackLanView> {
    const { stack } = await this.deps.settings.load();
    return { enabled: stack.lanBroker, port: BROKER_MQTT_PORT, addresses: lanAddresses() };
  }

  /**
   * Remembers the LAN choice, then applies it to a running broker by re-creating that container
   * alone (its port binding is part of its spec hash); a broker that is not running takes it at
   * the next `up`.
   */
  setLan(enabled: boolean, operationId?: string): Promise<StackLanView> {
    return this.deps.operations.run(operationId, async (operation) => {
      await this.deps.settings.update(async (settings) => ({
        settings: { ...settings, stack: { ...settings.stack, lanBroker: enabled } },
        result: undefined,
      }));
      const applied = await this.applyToBroker(operation.id, operation.signal);
      return { ...(await this.lan()), applied };
    });
  }

  private async applyToBroker(operationId: string, signal: AbortSignal): Promise<'now' | 'next-up'> {
    // Without an engine there is no broker to change: the choice waits for the next `up`.
    const orchestrator = await this.orchestrator(operationId).catch(() => undefined);
    if (!orchestrator) return 'next-up';
    const broker = (await orchestrator.status('core')).find((s) => s.name === 'rabbitmq');
    if (broker?.state !== 'running') return 'next-up';
    await orchestrator.upService('rabbitmq', signal, (service) => this.provisionBroker(service, operationId));
    return 'now';
  }

  async down(removeVolumes = false): Promise<void> {
    await (await this.orchestrator()).down({ removeVolumes });
  }

  /** Each service's view; a running Telegraf's says whether it dropped points lately (from its log). */
  async status(profile: 'core' | 'full'): Promise<StackServiceView[]> {
    const orchestrator = await this.orchestrator();
    return Promise.all(
      (await orchestrator.status(profile)).map(async (status) =>
        status.name === 'telegraf' && status.state === 'running'
          ? { ...view(status), ...(await telegrafProblem(orchestrator)) }
          : view(status),
      ),
    );
  }

  /**
   * Follows Telegraf's log and reports its losses (undefined: none in the window) whenever they
   * change, until `signal` aborts; a missing engine or container is retried every 5 s.
   */
  async watchTelegraf(onLoss: (loss: TelegrafLoss | undefined) => void, signal: AbortSignal): Promise<void> {
    let tracker = new TelegrafLossTracker();
    let told = 'null';
    const report = () => {
      const loss = tracker.view();
      const key = JSON.stringify(loss ?? null);
      if (key !== told) onLoss(loss);
      told = key;
    };
    // A loss ages out of the window with no new line: look again now and then.
    const timer = setInterval(report, WATCH_RETRY_MS).unref();
    try {
      while (!signal.aborted) {
        tracker = new TelegrafLossTracker(); // the tail is read again: count each line once
        try {
          const orchestrator = await this.orchestrator();
          await orchestrator.followLogs(
            'telegraf',
            TELEGRAF_LOG_TAIL,
            (lines) => tracker.add(lines) && report(),
            signal,
          );
        } catch {
          // no engine or no Telegraf container (yet): try again
        }
        report();
        await sleep(WATCH_RETRY_MS, undefined, { signal, ref: false }).catch(() => undefined);
      }
    } finally {
      clearInterval(timer);
    }
  }

  async stop(service: string): Promise<void> {
    await (await this.orchestrator()).stop(service);
  }

  restart(service: string, operationId?: string): Promise<void> {
    return this.deps.operations.run(operationId, async (operation) =>
      (await this.orchestrator(operation.id)).restart(service, operation.signal),
    );
  }

  async logs(service: string, tail: number): Promise<string[]> {
    return (await this.orchestrator()).logs(service, tail);
  }

  /** Streams a service's log as stack.log events until the container stops or the operation is cancelled. */
  followLogs(
    service: string,
    tail: number,
    operationId: string | undefined,
    onLines: (lines: string[]) => void,
  ): Promise<void> {
    return this.deps.operations.run(operationId, async (operation) =>
      (await this.orchestrator()).followLogs(service, tail, onLines, operation.signal),
    );
  }

  async exportImages(
    file: string,
    profile: 'core' | 'full',
  ): Promise<{ file: string; images: string[]; bytes: number }> {
    const { docker, project, emit } = await this.context();
    const images = [...new Set(servicesOf(project, profile).map((s) => s.image))];
    return { file, images, bytes: await exportImages(docker, images, file, emit) };
  }

  /** The profile's images and their size on this computer (what a lab pack's plan shows); missing ones named. */
  async imageSizes(profile: 'core' | 'full'): Promise<{ images: string[]; bytes: number; missing: string[] }> {
    const { docker, project } = await this.context();
    const images = [...new Set(servicesOf(project, profile).map((s) => s.image))];
    let bytes = 0;
    const missing: string[] = [];
    for (const image of images) {
      const info = await docker
        .getImage(image)
        .inspect()
        .catch(() => undefined);
      if (info) bytes += info.Size;
      else missing.push(image);
    }
    return { images, bytes, missing };
  }

  async importImages(file: string): Promise<string[]> {
    const { docker, emit } = await this.context();
    return importImages(docker, file, emit);
  }

  /** Per-install credentials, generated on first use and kept in the keychain (read side by side). */
  private async credentialEnv(): Promise<Record<string, string>> {
    const { credentials } = this.deps;
    const [rabbitmq, influxdb, grafana] = await Promise.all(
      ['rabbitmq-admin', 'influxdb-admin', 'grafana-admin'].map((name) => credentials.ensure(name)),
    );
    return {
      MAKERDECK_RABBITMQ_PASSWORD: rabbitmq!,
      MAKERDECK_INFLUXDB_PASSWORD: influxdb!,
      MAKERDECK_GRAFANA_PASSWORD: grafana!,
    };
  }

  private async orchestrator(operationId?: string): Promise<Orchestrator> {
    const { docker, project, emit, where } = await this.context(operationId);
    return new Orchestrator(docker, project, emit, where);
  }

  private async context(operationId?: string) {
    const endpoint = dockerEndpoint(this.deps.env);
    const docker = await connectDocker(endpoint);
    // The engine first: without Docker, the keychain's credentials are no use.
    await checkDockerEngine(docker, endpoint.label);
    const socket =
      typeof endpoint.options.socketPath === 'string' ? { MAKERDECK_DOCKER_SOCKET: endpoint.options.socketPath } : {};
    const [text, credentials, settings] = await Promise.all([
      readFile(path.join(this.deps.stackDir, 'compose.yaml'), 'utf8'),
      this.credentialEnv(),
      this.deps.settings.load(),
    ]);
    // The remembered choice decides the broker's binding, whatever the environment says.
    const bind = { MAKERDECK_BROKER_BIND: settings.stack.lanBroker ? '0.0.0.0' : '127.0.0.1' };
    const project = parseCompose(text, {
      file: 'stack/compose.yaml',
      baseDir: this.deps.stackDir,
      env: { ...this.deps.env, ...socket, ...credentials, ...bind },
    });
    const emit = (p: StackProgress) => this.deps.emit({ operationId, ...p });
    return { docker, project, emit, where: endpoint.label };
  }
}

/** "dropping points: …" when Telegraf's recent log tells of a loss. */
async function telegrafProblem(orchestrator: Orchestrator): Promise<{ problem?: string }> {
  const tracker = new TelegrafLossTracker();
  tracker.add(await orchestrator.logs('telegraf', TELEGRAF_LOG_TAIL).catch(() => []));
  const loss = tracker.view();
  return loss ? { problem: loss.message } : {};
}

/** compose.yaml's RABBITMQ_DEFAULT_USER. */
function adminUser(env: NodeJS.ProcessEnv): string {
  return env.MAKERDECK_RABBITMQ_USER || 'makerdeck';
}

function view(status: ServiceStatus): StackServiceView {
  const console = STACK_CONSOLES[status.name];
  const published = console && status.ports.find((p) => p.containerPort === console.port);
  return {
    ...status,
    links:
      published && status.state === 'running'
        ? [{ label: console.label, url: `http://${reachableHost(published.hostIp)}:${published.hostPort}/` }]
        : [],
  };
}

/** A port published on all addresses is reached on loopback from this computer. */
function reachableHost(hostIp: string): string {
  return hostIp === '0.0.0.0' ? '127.0.0.1' : hostIp;
}
