// A stand-in image for orchestration tests: a static Go HTTP server (tests/rig/standin-http) in an
// otherwise empty image, made with `docker import` — no registry needed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { findGo } from '../../scripts/rig/common.js';
import { repoRoot } from './env';

export const STANDIN_IMAGE = 'makerdeck-test/standin-http:1';

export async function ensureStandinImage(docker: Docker): Promise<string> {
  if (
    await docker
      .getImage(STANDIN_IMAGE)
      .inspect()
      .then(
        () => true,
        () => false,
      )
  )
    return STANDIN_IMAGE;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-standin-'));
  try {
    const root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'data'), { recursive: true });
    execFileSync(
      findGo('to build the stand-in image'),
      ['build', '-trimpath', '-ldflags', '-s -w', '-o', path.join(root, 'standin-http'), '.'],
      {
        cwd: path.join(repoRoot, 'tests', 'rig', 'standin-http'),
        env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
      },
    );
    const tar = path.join(dir, 'root.tar');
    execFileSync('tar', ['-C', root, '-cf', tar, '.']);
    const { createReadStream } = await import('node:fs');
    const [repo, tag] = STANDIN_IMAGE.split(':');
    const stream = await docker.importImage(
      createReadStream(tar) as unknown as string,
      { repo, tag, changes: ['ENTRYPOINT ["/standin-http"]'] } as never,
    );
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream as unknown as NodeJS.ReadableStream, (error) =>
        error ? reject(error) : resolve(undefined),
      ),
    );
    return STANDIN_IMAGE;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
