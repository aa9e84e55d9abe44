// package.json's engines, the README, .nvmrc and every locked dependency must agree on the oldest
// Node.js Makerdeck supports: a user on that version gets no EBADENGINE warning from `npm ci`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const manifest = JSON.parse(read('package.json')) as { engines: { node: string } };
const lockfile = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
};
const oldest = semver.minVersion(manifest.engines.node);

describe('the supported Node.js version', () => {
  it('is a lower bound in package.json', () => {
    expect(oldest?.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('satisfies every locked package that declares engines.node', () => {
    const refusing = Object.entries(lockfile.packages)
      .map(([name, entry]) => [name, Array.isArray(entry.engines) ? undefined : entry.engines?.node] as const)
      .filter(([, range]) => range && !semver.satisfies(oldest!.version, range))
      .map(([name, range]) => `${name} (${range})`);
    expect(refusing).toEqual([]);
  });

  it('is the one the README and CONTRIBUTING name', () => {
    const named = `${oldest!.major}.${oldest!.minor}`;
    expect(read('README.md')).toContain(`Node.js ${named}+`);
    expect(read('CONTRIBUTING.md')).toContain(`Node.js ${named} or newer`);
  });

  it('includes the major version in .nvmrc', () => {
    const major = read('.nvmrc').trim();
    expect(semver.intersects(`${major}.x`, manifest.engines.node)).toBe(true);
  });
});
