// stack/compose.yaml through Docker Compose's own loader: compose-go v2.16.2, the library that
// `docker compose config` runs (schema validation, interpolation, normalisation). No Compose v2
// binary is installed here, so the rig builds a small program on that library from its Go module.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRigCache, findGo } from '../../scripts/rig/common.js';
import { parseCompose } from '../../electron/core/stack/compose';
import { repoRoot } from '../support/env';

const SOURCE = path.join(repoRoot, 'tests', 'rig', 'compose-config');
const STACK = path.join(repoRoot, 'stack');
const CREDENTIALS = {
  MAKERDECK_RABBITMQ_PASSWORD: 'r',
  MAKERDECK_INFLUXDB_PASSWORD: 'i',
  MAKERDECK_GRAFANA_PASSWORD: 'g',
};
let tool: string;
let scratch: string;

/** Builds the checker once per source version, cached with the other rigs. */
function buildTool(): string {
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum']) hash.update(readFileSync(path.join(SOURCE, file)));
  const binary = path.join(defaultRigCache(), `compose-config-${hash.digest('hex').slice(0, 16)}`, 'compose-config');
  if (!existsSync(binary)) {
    mkdirSync(path.dirname(binary), { recursive: true });
    execFileSync(findGo('to build the compose-config checker'), ['build', '-trimpath', '-o', binary, '.'], {
      cwd: SOURCE,
      env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
      stdio: 'pipe',
    });
  }
  return binary;
}

const check = (file: string, env: NodeJS.ProcessEnv) =>
  spawnSync(tool, [file], { cwd: path.dirname(file), env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });

beforeAll(() => {
  tool = buildTool();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-compose-'));
}, 300_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("stack/compose.yaml and Compose's own loader (compose-go, what docker compose config runs)", () => {
  it('passes with the credentials Makerdeck fills in, all seven services in the full profile', () => {
    const result = check(path.join(STACK, 'compose.yaml'), CREDENTIALS);
    expect(result.status, result.stderr).toBe(0);
    expect([...result.stdout.matchAll(/^ {4}image: (.+)$/gm)].map((m) => m[1]).sort()).toEqual([
      'chronograf:1.10',
      'grafana/grafana:11.5.2',
      'influxdb:1.11',
      'kapacitor:1.7',
      'portainer/portainer-ce:2.27.1',
      'rabbitmq:4.1-management',
      'telegraf:1.34',
    ]);
  });

  it('refuses to run without the keychain credentials (no default password anywhere)', () => {
    const result = check(path.join(STACK, 'compose.yaml'), {});
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /required variable MAKERDECK_RABBITMQ_PASSWORD is missing a value: set by Makerdeck from the keychain/,
    );
  });

  it('rejects an unknown key, as Makerdeck does, which also names its line', () => {
    const text = readFileSync(path.join(STACK, 'compose.yaml'), 'utf8').replace(
      '    hostname: rabbitmq\n',
      '    hostname: rabbitmq\n    bogus: 1\n',
    );
    const file = path.join(scratch, 'compose.yaml');
    writeFileSync(file, text);
    const result = check(file, CREDENTIALS);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/services\.rabbitmq.*bogus/);
    const line = text.split('\n').indexOf('    bogus: 1') + 1;
    expect(() => parseCompose(text, { file: 'stack/compose.yaml', baseDir: STACK, env: CREDENTIALS })).toThrow(
      new RegExp(`bogus.*line ${line}|line ${line}.*bogus`),
    );
  });
});
