// A per-user private folder (mode 0700) for builds that carry secrets. It is checked, not trusted:
// another user could have created the path first on a shared /tmp.
import { lstat, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MakerdeckError } from '../../contract';

export async function privateBuildRoot(base = os.tmpdir()): Promise<string> {
  const uid = process.getuid?.();
  const dir = path.join(base, `makerdeck-${uid ?? os.userInfo().username}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const foreign = !info.isDirectory() || info.isSymbolicLink() || (uid !== undefined && info.uid !== uid);
  if (foreign || (process.platform !== 'win32' && (info.mode & 0o077) !== 0)) {
    throw new MakerdeckError(
      'UNAVAILABLE',
      `${dir} is not a private folder of yours (owner or mode changed): remove it and build again`,
    );
  }
  return dir;
}
