// The real stack has one name and fixed ports (1883, 8086, 15672): test files that start it take
// turns through this lock (vitest runs two files at a time).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const LOCK = path.join(
  os.tmpdir(),
  `makerdeck-test-stack-${process.env.DOCKER_HOST?.replace(/\W/g, '_') ?? 'none'}.lock`,
);

function holderAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(LOCK, 'pid'), 'utf8'));
  } catch {
    return true; // taken a moment ago, its pid not written yet
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until no other test file uses the real stack; returns the release function. */
export async function lockRealStack(timeoutMs = 600_000): Promise<() => void> {
  for (const end = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 250))) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch {
      if (!holderAlive()) rmSync(LOCK, { recursive: true, force: true }); // its holder died
      if (Date.now() > end) throw new Error(`another test file held the real stack for ${timeoutMs / 1000} s`);
    }
  }
}
