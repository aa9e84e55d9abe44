// The subset of the Compose file format Makerdeck's orchestrator understands, read with line
// numbers so that an unsupported key is refused by name and line instead of silently ignored.
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import { MakerdeckError } from '../../contract';

export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface VolumeMount {
  /** A named volume, or an absolute host path for a bind mount. */
  source: string;
  kind: 'volume' | 'bind';
  target: string;
  readOnly: boolean;
}

export interface Healthcheck {
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface ComposeService {
  name: string;
  image: string;
  hostname?: string;
  profiles: string[];
  restart: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  environment: Record<string, string>;
  volumes: VolumeMount[];
  ports: PortBinding[];
  healthcheck?: Healthcheck;
  dependsOn: Array<{ service: string; condition: 'service_started' | 'service_healthy' }>;
  command?: string[];
  labels: Record<string, string>;
}

export interface ComposeProject {
  name: string;
  services: ComposeService[];
  volumes: string[];
}

export interface ComposeContext {
  /** Shown in errors, e.g. "stack/compose.yaml". */
  file: string;
  /** Relative bind mounts resolve against this folder. */
  baseDir: string;
  env: Record<string, string | undefined>;
}

const TOP_KEYS = ['name', 'services', 'volumes'];
const SERVICE_KEYS = [
  'image',
  'hostname',
  'profiles',
  'restart',
  'environment',
  'volumes',
  'ports',
  'healthcheck',
  'depends_on',
  'command',
  'labels',
];
const HEALTH_KEYS = ['test', 'interval', 'timeout', 'retries', 'start_period'];

export function parseCompose(text: string, context: ComposeContext): ComposeProject {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const reader = new Reader(context, lines);
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new MakerdeckError(
      'BAD_INPUT',
      `${context.file} line ${first.linePos?.[0]?.line ?? '?'}: not valid YAML (${first.message.split('\n')[0]})`,
    );
  }
  const root = reader.map(document.contents, 'the file');
  reader.onlyKeys(root, TOP_KEYS, 'at the top level');
  const services = reader.map(root.get('services', true), 'services');
  const volumes = root.has('volumes')
    ? reader.map(root.get('volumes', true), 'volumes').items.map((pair) => reader.key(pair))
    : [];
  const parsed = services.items.map((pair) => readService(reader, reader.key(pair), pair.value as Node, volumes));
  const project = { name: reader.string(root.get('name', true), 'name'), services: parsed, volumes };
  checkDependencies(project, reader);
  return project;
}

function readService(reader: Reader, name: string, node: Node, declaredVolumes: string[]): ComposeService {
  const map = reader.map(node, `services.${name}`);
  reader.onlyKeys(map, SERVICE_KEYS, `in services.${name}`);
  const where = (key: string) => `services.${name}.${key}`;
  const image = reader.string(map.get('image', true), where('image'));
  if (!/:[\w][\w.-]{0,127}$/.test(image) || image.endsWith(':latest')) {
    reader.fail(map.get('image', true), `${where('image')} "${image}" must pin a version tag (never "latest")`);
  }
  const restart = map.has('restart') ? reader.string(map.get('restart', true), where('restart')) : 'no';
  if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(restart))
    reader.fail(map.get('restart', true), `${where('restart')} "${restart}" is not a restart policy`);
  return {
    name,
    image,
    hostname: map.has('hostname') ? reader.string(map.get('hostname', true), where('hostname')) : undefined,
    profiles: map.has('profiles') ? reader.strings(map.get('profiles', true), where('profiles')) : [],
    restart: restart as ComposeService['restart'],
    environment: map.has('environment') ? reader.keyValues(map.get('environment', true), where('environment')) : {},
    volumes: map.has('volumes')
      ? reader
          .seq(map.get('volumes', true), where('volumes'))
          .map((item) => readVolume(reader, item, where('volumes'), declaredVolumes))
      : [],
    ports: map.has('ports')
      ? reader.seq(map.get('ports', true), where('ports')).map((item) => readPort(reader, item, where('ports')))
      : [],
    healthcheck: map.has('healthcheck')
      ? readHealthcheck(reader, map.get('healthcheck', true) as Node, where('healthcheck'))
      : undefined,
    dependsOn: map.has('depends_on')
      ? readDependsOn(reader, map.get('depends_on', true) as Node, where('depends_on'))
      : [],
    command: map.has('command') ? reader.strings(map.get('command', true), where('command')) : undefined,
    labels: map.has('labels') ? reader.keyValues(map.get('labels', true), where('labels')) : {},
  };
}

function readPort(reader: Reader, node: Node, where: string): PortBinding {
  const text = reader.string(node, where);
  const match = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  const hostPort = Number(match?.[2]);
  const containerPort = Number(match?.[3]);
  if (!match || hostPort < 1 || hostPort > 65535 || containerPort < 1 || containerPort > 65535) {
    reader.fail(node, `${where} "${text}" must be [HOST_IP:]HOST_PORT:CONTAINER_PORT with ports from 1 to 65535`);
  }
  return {
    hostIp: (match[1] ?? '0.0.0.0').replace(/^\[|\]$/g, ''),
    hostPort,
    containerPort,
    protocol: (match[4] as 'tcp' | 'udp' | undefined) ?? 'tcp',
  };
}

function readVolume(reader: Reader, node: Node, where: string, declared: string[]): VolumeMount {
  const text = reader.string(node, where);
  const [source = '', target = '', mode, ...rest] = text.split(':');
  if (!source || !target.startsWith('/') || rest.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    reader.fail(node, `${where} "${text}" must be SOURCE:/container/path[:ro]`);
  }
  const isPath = source.startsWith('.') || source.startsWith('/');
  if (!isPath && !declared.includes(source))
    reader.fail(node, `${where} uses the volume "${source}", which the top-level volumes do not declare`);
  return {
    source: isPath ? path.resolve(reader.context.baseDir, source) : source,
    kind: isPath ? 'bind' : 'volume',
    target,
    readOnly: mode === 'ro',
  };
}

function readHealthcheck(reader: Reader, node: Node, where: string): Healthcheck {
  const map = reader.map(node, where);
  reader.onlyKeys(map, HEALTH_KEYS, `in ${where}`);
  const test = reader.strings(map.get('test', true), `${where}.test`);
  if (test[0] === 'CMD') test.shift();
  else if (test[0] === 'CMD-SHELL') test.splice(0, 2, '/bin/sh', '-c', test[1] ?? '');
  else reader.fail(map.get('test', true), `${where}.test must start with CMD or CMD-SHELL`);
  const duration = (key: string, fallback: number) =>
    map.has(key) ? reader.duration(map.get(key, true), `${where}.${key}`) : fallback;
  return {
    test,
    intervalMs: duration('interval', 30_000),
    timeoutMs: duration('timeout', 30_000),
    retries: map.has('retries') ? reader.integer(map.get('retries', true), `${where}.retries`) : 3,
    startPeriodMs: duration('start_period', 0),
  };
}

function readDependsOn(reader: Reader, node: Node, where: string): ComposeService['dependsOn'] {
  if (isSeq(node))
    return reader.strings(node, where).map((service) => ({ service, condition: 'service_started' as const }));
  return reader.map(node, where).items.map((pair) => {
    const service = reader.key(pair);
    const options = reader.map(pair.value as Node, `${where}.${service}`);
    reader.onlyKeys(options, ['condition'], `in ${where}.${service}`);
    const condition = reader.string(options.get('condition', true), `${where}.${service}.condition`);
    if (condition !== 'service_started' && condition !== 'service_healthy')
      reader.fail(
        options.get('condition', true),
        `${where}.${service}.condition "${condition}" is not supported (use service_started or service_healthy)`,
      );
    return { service, condition };
  });
}

function checkDependencies(project: ComposeProject, reader: Reader): void {
  const names = new Set(project.services.map((s) => s.name));
  for (const service of project.services) {
    for (const { service: needed } of service.dependsOn) {
      if (!names.has(needed))
        throw new MakerdeckError(
          'BAD_INPUT',
          `${reader.context.file}: services.${service.name}.depends_on names "${needed}", which is not a service`,
        );
    }
  }
  startOrder(project.services); // throws on a cycle
}

/** Services in waves: each wave depends only on earlier waves, so a wave can start in parallel. */
export function startOrder(services: ComposeService[]): ComposeService[][] {
  const waves: ComposeService[][] = [];
  const placed = new Set<string>();
  let remaining = [...services];
  while (remaining.length > 0) {
    const ready = remaining.filter((s) =>
      s.dependsOn.every((d) => placed.has(d.service) || !services.some((x) => x.name === d.service)),
    );
    if (ready.length === 0)
      throw new MakerdeckError(
        'BAD_INPUT',
        `The services ${remaining.map((s) => s.name).join(', ')} depend on each other in a circle`,
      );
    waves.push(ready);
    for (const service of ready) placed.add(service.name);
    remaining = remaining.filter((s) => !placed.has(s.name));
  }
  return waves;
}

/** The services of a profile (a service without profiles is in every profile). */
export function servicesOf(project: ComposeProject, profile: string): ComposeService[] {
  return project.services.filter((s) => s.profiles.length === 0 || s.profiles.includes(profile));
}

/** Typed access to the YAML tree, with the line of every node for error messages. */
class Reader {
  constructor(
    readonly context: ComposeContext,
    private readonly lines: LineCounter,
  ) {}

  fail(node: unknown, message: string): never {
    const offset = (node as Node | undefined)?.range?.[0];
    const line = offset === undefined ? '' : ` line ${this.lines.linePos(offset).line}`;
    throw new MakerdeckError('BAD_INPUT', `${this.context.file}${line}: ${message}`);
  }

  onlyKeys(map: YAMLMap, allowed: string[], where: string): void {
    for (const pair of map.items) {
      const key = this.key(pair);
      if (!allowed.includes(key))
        this.fail(
          pair.key,
          `"${key}" ${where} is not supported by Makerdeck's orchestrator (it knows ${allowed.join(', ')}): remove it, or run this file with docker compose`,
        );
    }
  }

  key(pair: Pair): string {
    if (!isScalar(pair.key) || typeof pair.key.value !== 'string') this.fail(pair.key, 'keys must be plain names');
    return pair.key.value;
  }

  map(node: unknown, where: string): YAMLMap {
    if (!isMap(node)) this.fail(node, `${where} must be a mapping`);
    return node as YAMLMap;
  }

  seq(node: unknown, where: string): Node[] {
    if (!isSeq(node)) this.fail(node, `${where} must be a list`);
    return (node as { items: Node[] }).items;
  }

  string(node: unknown, where: string): string {
    if (!isScalar(node) || node.value === null || typeof node.value === 'object')
      this.fail(node, `${where} must be a value`);
    return this.interpolate(String(node.value), node);
  }

  strings(node: unknown, where: string): string[] {
    if (isScalar(node)) return this.string(node, where).split(/\s+/).filter(Boolean);
    return this.seq(node, where).map((item, i) => this.string(item, `${where}[${i}]`));
  }

  integer(node: unknown, where: string): number {
    const value = Number(this.string(node, where));
    if (!Number.isInteger(value) || value < 0) this.fail(node, `${where} must be a whole number`);
    return value;
  }

  duration(node: unknown, where: string): number {
    const text = this.string(node, where);
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
      this.fail(node, `${where} "${text}" must be a duration like 5s, 1m30s or 500ms`);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
    return parts.reduce((total, [, amount, u]) => total + Number(amount) * unit[u as keyof typeof unit], 0);
  }

  keyValues(node: unknown, where: string): Record<string, string> {
    if (isSeq(node)) {
      return Object.fromEntries(
        this.seq(node, where).map((item) => {
          const text = this.string(item, where);
          const at = text.indexOf('=');
          return at < 0 ? [text, this.context.env[text] ?? ''] : [text.slice(0, at), text.slice(at + 1)];
        }),
      );
    }
    return Object.fromEntries(
      this.map(node, where).items.map((pair) => [
        this.key(pair),
        this.string(pair.value, `${where}.${this.key(pair)}`),
      ]),
    );
  }

  /** ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} and $$, as Compose does. */
  private interpolate(text: string, node: Node): string {
    return text.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
      (whole, name: string | undefined, colon: string, op: string, arg: string) => {
        if (whole === '$$') return '$';
        const value = this.context.env[name!];
        const missing = value === undefined || (colon === ':' && value === '');
        if (!missing) return value!;
        if (op === '-') return arg;
        if (op === '?') this.fail(node, `${name} is not set: ${arg || 'set it in the environment'}`);
        return '';
      },
    );
  }
}
