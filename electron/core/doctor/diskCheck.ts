import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { Check } from './check';

const GiB = 1024 ** 3;
/** The full stack's images take about 3 GiB; below this the pull will fail. */
const FAIL_BELOW = 2 * GiB;
/** Room for images plus a few weeks of InfluxDB data. */
const WARN_BELOW = 8 * GiB;

/** Where container images land: Docker's root on Linux, else the user's data folder (Docker Desktop's VM disk lives there). */
export function imageStoragePath(dataDir: string): string {
  return process.platform === 'linux' && existsSync('/var/lib/docker') ? '/var/lib/docker' : nearestExisting(dataDir);
}

function nearestExisting(dir: string): string {
  let current = dir;
  while (!existsSync(current)) {
    const parent = current.replace(/[\\/][^\\/]*$/, '') || '/';
    if (parent === current) break;
    current = parent;
  }
  return current;
}

export const diskCheck: Check = {
  id: 'disk',
  title: 'Free disk space for container images',
  budgetMs: 2000,
  async run(context) {
    const where = imageStoragePath(context.dataDir);
    const fs = await statfs(where);
    const free = fs.bavail * fs.bsize;
    const summary = `${(free / GiB).toFixed(1)} GiB free at ${where}`;
    if (free < FAIL_BELOW)
      return {
        status: 'fail',
        summary,
        fix: 'Free at least 2 GiB (docker system prune removes unused images) before starting the stack',
      };
    if (free < WARN_BELOW)
      return {
        status: 'warn',
        summary,
        fix: 'The stack needs about 3 GiB for images plus room for data: free some space soon',
      };
    return { status: 'ok', summary };
  },
};
