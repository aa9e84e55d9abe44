// Test rig: the stack images' self-check. Ensures the images (cold or cached), loads them again on
// an empty image store, runs rabbitmq + influxdb + telegraf and sends one MQTT line through to
// InfluxDB, then checks each stand-in's health endpoint.
//
//   node scripts/rig/stackImages/selfTest.js [--rebuild]
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMain, run, sleep } from '../../services/proc.js';
import { defaultRigCache } from '../common.js';
import { dockerCli, dockerEnv } from './build.js';
import { ensureStackImages } from './cache.js';
import { LABEL_STAND_IN, STACK_DEBIAN_PACKAGES, STACK_IMAGES } from './recipes.js';

/**
 * @typedef {import('./recipes.js').Log} Log
 * @typedef {import('./recipes.js').StandInSpec} StandInSpec
 */

/**
 * @param {typeof import('../../services/dockerd.js').startDockerd} startDockerd
 * @param {Log} log
 */
async function startDockerdPolitely(startDockerd, log) {
  for (let waited = 0; ; waited += 20) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mkd-stk-'));
    try {
      return { svc: await startDockerd({ dir }), dir };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      const { message } = /** @type {Error} */ (err);
      if (!/another dockerd is already running/.test(message) || waited >= 20 * 60) throw err;
      if (waited % 60 === 0)
        log(
          `[self-test] another dockerd is running (${message.match(/pid \d+/)?.[0]}); waiting for it (poll every 20 s)`,
        );
      await sleep(20_000);
    }
  }
}

async function selfTest() {
  const log = (/** @type {unknown[]} */ ...a) => console.log(...a);
  const { ensureDebianPackages } = await import('../../services/apt.js');
  const { DOCKER_PACKAGES, startDockerd } = await import('../../services/dockerd.js');
  await ensureDebianPackages([...new Set([...DOCKER_PACKAGES, ...STACK_DEBIAN_PACKAGES])]);
  const rebuild = process.argv.includes('--rebuild') ? 'all' : false;
  const cacheDir = defaultRigCache();
  const { svc, dir } = await startDockerdPolitely(startDockerd, log);
  log(`[self-test] dockerd pid ${svc.pid} at ${svc.host}`);
  const configDir = path.join(cacheDir, 'stack-images', 'docker-config');
  const env = dockerEnv(svc.host, configDir);
  const docker = dockerCli();
  const dk = async (/** @type {string[]} */ ...args) => {
    const r = await run(docker, args, { env, timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (exit ${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout.trim();
  };
  const suffix = `${process.pid}`;
  /** @type {string[]} */
  const containers = [];
  /** @type {string | null} */
  let network = null;
  /** @type {string | null} */
  let confDir = null;
  try {
    // 1. ensure (cold or cached), then again from the tarball on an empty image store
    let r = await ensureStackImages({ dockerHost: svc.host, cacheDir, rebuild });
    log(
      `[self-test] ensureStackImages #1: ${r.seconds.toFixed(1)} s (${r.built.length ? `built ${r.built.length} images` : r.loaded ? 'loaded from tarball' : 'already present'})`,
    );
    log(
      `[self-test]   timings: ${JSON.stringify(Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v * 10) / 10])))}`,
    );
    const again = await ensureStackImages({ dockerHost: svc.host, cacheDir });
    log(`[self-test] ensureStackImages #2 (images present): ${again.seconds.toFixed(2)} s`);
    if (!r.loaded) {
      await dk('rmi', ...Object.keys(STACK_IMAGES));
      r = await ensureStackImages({ dockerHost: svc.host, cacheDir });
      if (!r.loaded || r.built.length) throw new Error(`expected a load from the tarball, got ${JSON.stringify(r)}`);
      log(`[self-test] ensureStackImages #3 (empty image store, cached tarball): ${r.seconds.toFixed(1)} s`);
    }
    log(`[self-test] tarball ${r.tarball}: ${(statSync(r.tarball).size / 2 ** 20).toFixed(0)} MiB`);
    const sizes = await dk('images', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}');
    log(
      sizes
        .split('\n')
        .filter((l) => Object.hasOwn(STACK_IMAGES, /** @type {string} */ (l.split(' ')[0])))
        .map((l) => `    ${l}`)
        .join('\n'),
    );

    // 2. rabbitmq + influxdb + telegraf on a user-defined network, ports on 127.0.0.1
    const net = `mkd-stack-selftest-${suffix}`;
    network = net;
    await dk('network', 'create', net);
    const name = (/** @type {string} */ s) => `mkd-selftest-${s}-${suffix}`;
    /** @type {(svcName: string, image: string, args: string[]) => Promise<string>} */
    const runC = async (svcName, image, args) => {
      const c = name(svcName);
      await dk(
        'run',
        '-d',
        '--name',
        c,
        '--hostname',
        svcName,
        '--network',
        net,
        '--network-alias',
        svcName,
        ...args,
        image,
      );
      containers.push(c);
      return c;
    };
    const mqttUser = 'maker';
    const mqttPass = 'mqtt-pass';
    const ifxUser = 'admin';
    const ifxPass = 'influx-pass';
    const tStack = performance.now();
    const rabbit = await runC('rabbitmq', 'rabbitmq:4.1-management', [
      '-e',
      `RABBITMQ_DEFAULT_USER=${mqttUser}`,
      '-e',
      `RABBITMQ_DEFAULT_PASS=${mqttPass}`,
      '-p',
      '127.0.0.1::1883',
      '-p',
      '127.0.0.1::15672',
    ]);
    const influx = await runC('influxdb', 'influxdb:1.11', [
      '-e',
      'INFLUXDB_HTTP_AUTH_ENABLED=true',
      '-e',
      `INFLUXDB_ADMIN_USER=${ifxUser}`,
      '-e',
      `INFLUXDB_ADMIN_PASSWORD=${ifxPass}`,
      '-e',
      'INFLUXDB_DB=makerdeck',
      '-p',
      '127.0.0.1::8086',
    ]);
    confDir = mkdtempSync(path.join(os.tmpdir(), 'mkd-stk-conf-'));
    const telegrafConf = path.join(confDir, 'telegraf.conf');
    writeFileSync(telegrafConf, SELF_TEST_TELEGRAF_CONF);
    const telegraf = await runC('telegraf', 'telegraf:1.34', [
      '-v',
      `${telegrafConf}:/etc/telegraf/telegraf.conf:ro`,
      '-e',
      `MQTT_USERNAME=${mqttUser}`,
      '-e',
      `MQTT_PASSWORD=${mqttPass}`,
      '-e',
      `INFLUX_USERNAME=${ifxUser}`,
      '-e',
      `INFLUX_PASSWORD=${ifxPass}`,
    ]);
    /** @type {(c: string, p: number) => Promise<number>} */
    const port = async (c, p) =>
      Number(/** @type {string} */ ((await dk('port', c, `${p}/tcp`)).split('\n')[0]).split(':').pop());
    const mqttPort = await port(rabbit, 1883);
    const mgmtPort = await port(rabbit, 15672);
    const influxPort = await port(influx, 8086);

    /** @type {(what: string, fn: () => Promise<boolean>, timeoutMs?: number) => Promise<void>} */
    const waitFor = async (what, fn, timeoutMs = 90_000) => {
      const t = performance.now();
      for (;;) {
        /** @type {Error | undefined} */
        let last;
        try {
          if (await fn()) break;
        } catch (err) {
          last = /** @type {Error} */ (err);
        }
        if (performance.now() - t > timeoutMs)
          throw new Error(
            `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${last.message}` : ''}`,
          );
        await sleep(250);
      }
      const s = (performance.now() - tStack) / 1000;
      log(`[self-test] ${what}: ${s.toFixed(1)} s after the first docker run`);
    };
    /** @type {(url: string, init?: RequestInit) => Promise<number>} */
    const httpStatus = async (url, init) => (await fetch(url, { ...init, signal: AbortSignal.timeout(3000) })).status;
    await waitFor(
      'influxdb GET /ping 204',
      async () => (await httpStatus(`http://127.0.0.1:${influxPort}/ping`)) === 204,
    );
    const health = /** @type {{ status: string }} */ (
      await (await fetch(`http://127.0.0.1:${influxPort}/health`)).json()
    );
    if (health.status !== 'pass') throw new Error(`influxdb /health: ${JSON.stringify(health)}`);
    await waitFor(
      'rabbitmq ping (rabbitmq-diagnostics -q ping)',
      async () =>
        (await run(docker, ['exec', rabbit, 'rabbitmq-diagnostics', '-q', 'ping'], { env, timeoutMs: 30_000 })).code ===
        0,
    );
    await waitFor(
      `rabbitmq healthy (${STACK_IMAGES['rabbitmq:4.1-management'].health.join(' ')})`,
      async () =>
        (
          await run(docker, ['exec', rabbit, ...STACK_IMAGES['rabbitmq:4.1-management'].health], {
            env,
            timeoutMs: 30_000,
          })
        ).code === 0,
    );
    const auth = `Basic ${Buffer.from(`${mqttUser}:${mqttPass}`).toString('base64')}`;
    const overview = /** @type {{ product_name: string, rabbitmq_version: string, erlang_version: string }} */ (
      await (await fetch(`http://127.0.0.1:${mgmtPort}/api/overview`, { headers: { authorization: auth } })).json()
    );
    log(
      `[self-test] rabbitmq management API: ${overview.product_name} ${overview.rabbitmq_version}, erlang ${overview.erlang_version}`,
    );
    const logsOf = async (/** @type {string} */ c) => {
      const l = await run(docker, ['logs', c], { env, timeoutMs: 30_000 });
      return l.stdout + l.stderr;
    };
    await waitFor('telegraf connected to MQTT', async () =>
      /Connected \[tcp:\/\/rabbitmq:1883\]/.test(await logsOf(telegraf)),
    );
    // the subscription follows the CONNACK; wait until RabbitMQ has the consumer's queue bound
    await waitFor('telegraf subscribed (mqtt-subscription queue)', async () =>
      /mqtt-subscription-makerdeck-telegraf/.test(
        (await run(docker, ['exec', rabbit, 'rabbitmqctl', '-q', 'list_queues', 'name'], { env, timeoutMs: 30_000 }))
          .stdout,
      ),
    );

    // 3. one line over MQTT 3.1.1 -> telegraf -> influxdb
    const line = 'telemetry,device=rig-test temp_c=21.5';
    const tgHealth = await run(docker, ['exec', telegraf, ...STACK_IMAGES['telegraf:1.34'].health], {
      env,
      timeoutMs: 30_000,
    });
    if (tgHealth.code !== 0)
      throw new Error(`telegraf health (${STACK_IMAGES['telegraf:1.34'].health.join(' ')}) failed: ${tgHealth.stderr}`);
    log(`[self-test] telegraf healthy (${STACK_IMAGES['telegraf:1.34'].health.join(' ')} -> exit 0)`);
    const pub = await run(
      'mosquitto_pub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(mqttPort),
        '-V',
        'mqttv311',
        '-q',
        '1',
        '-u',
        mqttUser,
        '-P',
        mqttPass,
        '-i',
        `mkd-selftest-${suffix}`,
        '-t',
        'makerdeck/rig-test/telemetry',
        '-m',
        line,
      ],
      { timeoutMs: 30_000 },
    );
    if (pub.code !== 0) throw new Error(`mosquitto_pub failed: ${pub.stderr}`);
    const tPub = performance.now();
    const basic = `Basic ${Buffer.from(`${ifxUser}:${ifxPass}`).toString('base64')}`;
    /** @typedef {{ columns: string[], values: unknown[][] }} Series */
    /** @type {Series | undefined} */
    let series;
    for (;;) {
      const q = new URLSearchParams({
        db: 'makerdeck',
        q: `SELECT temp_c, device, topic FROM telemetry WHERE device = 'rig-test'`,
      });
      const body = /** @type {{ results?: { series?: Series[] }[] }} */ (
        await (await fetch(`http://127.0.0.1:${influxPort}/query?${q}`, { headers: { authorization: basic } })).json()
      );
      series = body.results?.[0]?.series?.[0];
      if (series) break;
      if (performance.now() - tPub > 30_000)
        throw new Error(
          `the point never reached InfluxDB (last answer ${JSON.stringify(body)}); telegraf logs:\n${(await run(docker, ['logs', '--tail', '30', telegraf], { env })).stderr}`,
        );
      await sleep(200);
    }
    const { columns, values } = series;
    const row = Object.fromEntries(columns.map((c, i) => [c, values[0]?.[i]]));
    if (row.temp_c !== 21.5 || row.device !== 'rig-test' || series.values.length !== 1)
      throw new Error(`unexpected InfluxQL answer: ${JSON.stringify(series)}`);
    log(
      `[self-test] InfluxQL: ${JSON.stringify(row)} (${((performance.now() - tPub) / 1000).toFixed(2)} s after publishing)`,
    );
    const flux =
      'from(bucket: "makerdeck/autogen") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "telemetry" and r.device == "rig-test")';
    const v2 = await fetch(`http://127.0.0.1:${influxPort}/api/v2/query`, {
      method: 'POST',
      headers: {
        authorization: `Token ${ifxUser}:${ifxPass}`,
        'content-type': 'application/vnd.flux',
        accept: 'application/csv',
      },
      body: flux,
    });
    const csv = await v2.text();
    const rows = csv
      .trim()
      .split(/\r?\n/)
      .filter((l) => l && !l.startsWith('#'));
    const header = rows[0]?.split(',') ?? [];
    const data = rows.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
    if (v2.status !== 200 || data.length !== 1 || data[0]._value !== '21.5' || data[0]._field !== 'temp_c')
      throw new Error(`unexpected /api/v2/query answer (${v2.status}):\n${csv}`);
    log(
      `[self-test] Flux via /api/v2/query: _value=${data[0]._value} _field=${data[0]._field} device=${data[0].device}`,
    );
    const denied = await httpStatus(
      `http://127.0.0.1:${influxPort}/query?${new URLSearchParams({ q: 'SHOW DATABASES' })}`,
    );
    if (denied !== 401) throw new Error(`influxdb without credentials answered ${denied}, expected 401`);
    const v5 = await run(
      'mosquitto_pub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(mqttPort),
        '-V',
        'mqttv5',
        '-u',
        mqttUser,
        '-P',
        mqttPass,
        '-t',
        'makerdeck/v5/telemetry',
        '-m',
        'x',
      ],
      { timeoutMs: 30_000 },
    );
    log(
      `[self-test] MQTT 5 publish (expected to fail on RabbitMQ 3.10): exit ${v5.code} ${(v5.stderr || v5.stdout).trim().split('\n')[0]}`,
    );

    // 4. the stand-ins: banner, label, health endpoint
    const standIns = /** @type {[string, StandInSpec][]} */ (
      Object.entries(STACK_IMAGES).filter(([, s]) => s.kind === 'stand-in')
    );
    for (const [image, spec] of standIns) {
      const c = await runC(spec.service, image, ['-p', `127.0.0.1::${spec.ports.http}`]);
      const p = await port(c, spec.ports.http);
      const url = `http://127.0.0.1:${p}${/** @type {string} */ (spec.health[2]).replace(/^http:\/\/localhost:\d+/, '')}`;
      let status = 0;
      let body = '';
      const t = performance.now();
      while (performance.now() - t < 15_000) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
          status = res.status;
          body = await res.text();
          break;
        } catch {
          await sleep(100);
        }
      }
      const inContainer = (await run(docker, ['exec', c, ...spec.health], { env, timeoutMs: 30_000 })).code;
      const labels = JSON.parse(await dk('image', 'inspect', '-f', '{{json .Config.Labels}}', image));
      const banner = await dk('logs', c);
      if (
        status < 200 ||
        status > 299 ||
        inContainer !== 0 ||
        labels[LABEL_STAND_IN] !== 'true' ||
        !/stand-in/.test(banner)
      ) {
        throw new Error(
          `stand-in ${image}: status ${status}, in-container health exit ${inContainer}, labels ${JSON.stringify(labels)}, log ${banner}`,
        );
      }
      log(`[self-test] ${image}: GET ${new URL(url).pathname} -> ${status} ${body.slice(0, 80)}`);
    }
  } finally {
    for (const c of containers) await run(docker, ['rm', '-f', '-v', c], { env }).catch(() => {});
    if (network) await run(docker, ['network', 'rm', network], { env }).catch(() => {});
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
    if (confDir) rmSync(confDir, { recursive: true, force: true });
  }
  log('stack images self-test OK');
}

// What a compose file would mount as stack/telegraf/telegraf.conf (secrets from the environment).
const SELF_TEST_TELEGRAF_CONF = `[agent]
  interval = "10s"
  flush_interval = "1s"
  omit_hostname = true
  skip_processors_after_aggregators = true

[[inputs.mqtt_consumer]]
  servers = ["tcp://rabbitmq:1883"]
  topics = ["makerdeck/+/telemetry"]
  qos = 1
  client_id = "makerdeck-telegraf"
  username = "\${MQTT_USERNAME}"
  password = "\${MQTT_PASSWORD}"
  data_format = "influx"
  topic_tag = "topic"
  startup_error_behavior = "retry"
  interval = "2s"

[[outputs.influxdb]]
  urls = ["http://influxdb:8086"]
  database = "makerdeck"
  skip_database_creation = true
  username = "\${INFLUX_USERNAME}"
  password = "\${INFLUX_PASSWORD}"

[[outputs.health]]
  service_address = "http://:8080"
  namedrop = ["*"]
`;

if (isMain(import.meta.url)) {
  await selfTest();
}
