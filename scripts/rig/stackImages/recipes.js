// Test rig: the images Makerdeck's backing stack (stack/compose.yaml) runs, made without any
// container registry and tagged with the names compose pins, so tests can run the real stack on a
// private dockerd (scripts/services/dockerd.js). This file is what each image is and its recipe
// hash; build.js builds one, cache.js makes them all present (selfTest.js checks the lot).
//
//   - makerdeck-rig/debian:bookworm  Debian 12 minbase from mmdebstrap, `docker import`ed
//   - rabbitmq:4.1-management        Debian's real rabbitmq-server 3.10 + MQTT + management plugins
//   - influxdb:1.11                  the real InfluxDB 1.8.10 (Go module, built here), Flux on
//   - telegraf:1.34                  the real Telegraf 1.34.4, trimmed build (Go module, built here)
//   - kapacitor:1.7, chronograf:1.10, grafana/grafana:11.5.2, portainer/portainer-ce:2.27.1:
//     STAND-INs (label dev.makerdeck.stand-in=true) serving the real ports and health endpoints
//
// Recipes (Dockerfiles, entrypoints, configs) are in tests/rig/stack/; the hashes below cover those
// files and the constants here, not this module's source or layout.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Dockerfiles, entrypoints and configs of the stack images. */
export const STACK_RECIPE_DIR = path.join(repoRoot, 'tests', 'rig', 'stack');

/**
 * Host packages: mmdebstrap makes the base root filesystem, docker.io is the docker CLI used here
 * (its dockerd is what scripts/services/dockerd.js starts), mosquitto-clients' mosquitto_pub
 * publishes test telemetry (the self-test; tests may use it too).
 */
export const STACK_DEBIAN_PACKAGES = ['mmdebstrap', 'docker.io', 'mosquitto-clients'];

/** Bump to rebuild every image (changes every recipe hash). */
export const RECIPE_FORMAT = 1;
export const LABEL_RECIPE = 'dev.makerdeck.rig.recipe';
export const LABEL_RIG = 'dev.makerdeck.rig';
export const LABEL_ACTUAL = 'dev.makerdeck.rig.actual';
export const LABEL_STAND_IN = 'dev.makerdeck.stand-in';

export const BASE = 'makerdeck-rig/debian:bookworm';
export const STAND_IN_BASE = 'makerdeck-rig/stand-in:bookworm';

// mmdebstrap arguments for the base (besides the output path). Part of the base's recipe hash.
export const DEBIAN_SUITE = 'bookworm';
export const MMDEBSTRAP_ARGS = [
  '--variant=minbase',
  '--mode=root',
  '--format=tar',
  // curl: entrypoints and health checks (`curl -fsS http://localhost:PORT/...`), like upstream images
  '--include=ca-certificates,curl',
  '--aptopt=Acquire::Languages "none"',
  '--dpkgopt=path-exclude=/usr/share/doc/*',
  '--dpkgopt=path-include=/usr/share/doc/*/copyright',
  '--dpkgopt=path-exclude=/usr/share/man/*',
  '--dpkgopt=path-exclude=/usr/share/locale/*',
];
export const DEBIAN_SOURCES = [
  `deb http://deb.debian.org/debian ${DEBIAN_SUITE} main`,
  `deb http://deb.debian.org/debian ${DEBIAN_SUITE}-updates main`,
  `deb http://deb.debian.org/debian-security ${DEBIAN_SUITE}-security main`,
];
export const BASE_IMPORT_CHANGES = [
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'CMD ["bash"]',
];

/**
 * @typedef {{ module: string, version: string, packages: string[], tags: string[], ldflags: string }} GoBuild
 * @typedef {{ summary: string, from?: string, actual?: string, go?: GoBuild, ports?: Record<string, number>,
 *   health?: string[] }} SpecCommon
 * @typedef {SpecCommon & { kind: 'rootfs' | 'dockerfile', dir: string }} BuiltSpec
 * @typedef {SpecCommon & { kind: 'stand-in', service: string, version: string, ports: { http: number },
 *   health: string[] }} StandInSpec
 * @typedef {BuiltSpec | StandInSpec} ImageSpec
 * @typedef {(line: string) => void} Log
 * @typedef {import('../../services/proc.js').RunResult} RunResult
 * @typedef {(args: string[], opts?: { timeoutMs?: number, input?: string }) => Promise<RunResult>} Docker
 */

/** Versions built from Go modules (on the host, CGO_ENABLED=0) and copied into their images. */
export const INFLUXDB_VERSION = '1.8.10';
export const TELEGRAF_VERSION = '1.34.4';
// outputs.health (beyond the stack's needs) gives compose a healthcheck that does not touch MQTT:
// `telegraf --once` as a healthcheck would connect with the same client_id and kick the running consumer.
export const TELEGRAF_BUILD_TAGS = [
  'custom',
  'inputs.mqtt_consumer',
  'outputs.influxdb',
  'outputs.influxdb_v2',
  'outputs.health',
  'parsers.influx',
];

/**
 * Every image ensureStackImages makes, in build order (parents first), with its recipe summary.
 * kind: 'rootfs' (mmdebstrap + docker import), 'dockerfile' (tests/rig/stack/<dir>/Dockerfile,
 * with Go binaries from `go` copied into the context) or 'stand-in' (stand-in/service.Dockerfile).
 * health: a command that works inside the container (for compose healthchecks).
 * @satisfies {Record<string, ImageSpec>}
 */
export const STACK_IMAGES = {
  [BASE]: {
    kind: 'rootfs',
    dir: 'base',
    summary: `Debian 12 (${DEBIAN_SUITE}) minbase + ca-certificates, curl: mmdebstrap | docker import (customize hook base/customize.sh)`,
  },
  'rabbitmq:4.1-management': {
    kind: 'dockerfile',
    dir: 'rabbitmq',
    from: BASE,
    actual: 'Debian bookworm rabbitmq-server 3.10 (apt) with rabbitmq_mqtt + rabbitmq_management',
    summary:
      'Debian rabbitmq-server 3.10.x, plugins mqtt+management, RABBITMQ_DEFAULT_USER/PASS/VHOST via conf.d; MQTT 3.1/3.1.1 only',
    ports: { amqp: 5672, mqtt: 1883, management: 15672 },
    // `ping` answers ~5 s before the MQTT listener is up; check_port_connectivity waits for it
    health: ['rabbitmq-diagnostics', '-q', 'check_port_connectivity'],
  },
  'influxdb:1.11': {
    kind: 'dockerfile',
    dir: 'influxdb',
    from: BASE,
    actual: `InfluxDB OSS ${INFLUXDB_VERSION} (github.com/influxdata/influxdb@v${INFLUXDB_VERSION}, CGO_ENABLED=0)`,
    summary: `real InfluxDB ${INFLUXDB_VERSION} (influxd from its Go module), flux-enabled, INFLUXDB_* init like the official image`,
    go: {
      module: 'github.com/influxdata/influxdb',
      version: INFLUXDB_VERSION,
      packages: ['cmd/influxd'],
      tags: [],
      ldflags: `-s -w -X main.version=${INFLUXDB_VERSION} -X main.branch=${INFLUXDB_VERSION.split('.').slice(0, 2).join('.')}`,
    },
    ports: { http: 8086 },
    health: ['curl', '-fsS', 'http://localhost:8086/ping'],
  },
  'telegraf:1.34': {
    kind: 'dockerfile',
    dir: 'telegraf',
    from: BASE,
    actual: `Telegraf ${TELEGRAF_VERSION} (github.com/influxdata/telegraf@v${TELEGRAF_VERSION}, tags ${TELEGRAF_BUILD_TAGS.join(',')}, CGO_ENABLED=0)`,
    summary: `real Telegraf ${TELEGRAF_VERSION}, trimmed build (${TELEGRAF_BUILD_TAGS.join(',')}); config /etc/telegraf/telegraf.conf (mount yours)`,
    go: {
      module: 'github.com/influxdata/telegraf',
      version: TELEGRAF_VERSION,
      packages: ['cmd/telegraf'],
      tags: TELEGRAF_BUILD_TAGS,
      ldflags: `-s -w -X github.com/influxdata/telegraf/internal.Version=${TELEGRAF_VERSION}`,
    },
    ports: { health: 8080 },
    // needs [[outputs.health]] service_address = "http://:8080" in the config (the image's default has it)
    health: ['curl', '-fsS', 'http://localhost:8080/'],
  },
  [STAND_IN_BASE]: {
    kind: 'dockerfile',
    dir: 'stand-in',
    from: BASE,
    summary: 'base of the stand-ins: Debian python3 + stand-in.py (a small HTTP server)',
  },
  'kapacitor:1.7': {
    kind: 'stand-in',
    from: STAND_IN_BASE,
    service: 'kapacitor',
    version: '1.7',
    summary: 'STAND-IN (not Kapacitor): 9092 GET /kapacitor/v1/ping -> 204 (X-Kapacitor-Version)',
    ports: { http: 9092 },
    health: ['curl', '-fsS', 'http://localhost:9092/kapacitor/v1/ping'],
  },
  'chronograf:1.10': {
    kind: 'stand-in',
    from: STAND_IN_BASE,
    service: 'chronograf',
    version: '1.10',
    summary: 'STAND-IN (not Chronograf): 8888 GET /ping -> 204, GET /chronograf/v1/ -> links JSON',
    ports: { http: 8888 },
    health: ['curl', '-fsS', 'http://localhost:8888/ping'],
  },
  'grafana/grafana:11.5.2': {
    kind: 'stand-in',
    from: STAND_IN_BASE,
    service: 'grafana',
    version: '11.5.2',
    summary: 'STAND-IN (not Grafana): 3000 GET /api/health -> {"database":"ok","version":"11.5.2",...}',
    ports: { http: 3000 },
    health: ['curl', '-fsS', 'http://localhost:3000/api/health'],
  },
  'portainer/portainer-ce:2.27.1': {
    kind: 'stand-in',
    from: STAND_IN_BASE,
    service: 'portainer',
    version: '2.27.1',
    summary: 'STAND-IN (not Portainer): 9000 GET /api/system/status (and /api/status) -> {"Version":"2.27.1",...}',
    ports: { http: 9000 },
    health: ['curl', '-fsS', 'http://localhost:9000/api/system/status'],
  },
};

/** sha256 (hex) of the parts, each a string, Buffer or JSON value, NUL-separated. @param {unknown[]} parts */
export const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' || Buffer.isBuffer(p) ? p : JSON.stringify(p)).update('\0');
  return h.digest('hex');
};

/**
 * Every file under dir (sorted, relative path + exec bit + content) folded into one hash.
 * @param {string} dir
 */
export function hashDir(dir) {
  const h = createHash('sha256');
  /** @param {string} rel */
  const walk = (rel) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const relName = path.posix.join(rel, name);
      const abs = path.join(dir, relName);
      const st = statSync(abs);
      if (st.isDirectory()) walk(relName);
      else
        h.update(`${relName}\0${st.mode & 0o111 ? 'x' : '-'}\0`)
          .update(readFileSync(abs))
          .update('\0');
    }
  };
  walk('');
  return h.digest('hex');
}

/** { name: recipe hash } for every image: its own recipe plus its parent's hash. */
export function stackRecipeHashes() {
  /** @type {Record<string, string>} */
  const hashes = {};
  for (const [name, spec] of /** @type {[string, ImageSpec][]} */ (Object.entries(STACK_IMAGES))) {
    const own =
      spec.kind === 'stand-in'
        ? [readFileSync(path.join(STACK_RECIPE_DIR, 'stand-in', 'service.Dockerfile')), standInBuildArgs(name, spec)]
        : [hashDir(path.join(STACK_RECIPE_DIR, spec.dir))];
    const extra =
      spec.kind === 'rootfs'
        ? { MMDEBSTRAP_ARGS, DEBIAN_SUITE, DEBIAN_SOURCES, BASE_IMPORT_CHANGES }
        : { go: spec.go ?? null, actual: spec.actual ?? null };
    hashes[name] = sha256(RECIPE_FORMAT, name, spec.kind, spec.from ? hashes[spec.from] : '', extra, ...own);
  }
  return hashes;
}

/**
 * The stand-in Dockerfile's build arguments for one image.
 * @param {string} name
 * @param {StandInSpec} spec
 */
export function standInBuildArgs(name, spec) {
  return { SERVICE: spec.service, IMAGE: name, VERSION: spec.version, PORT: String(Object.values(spec.ports)[0]) };
}
