import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from './env';

export const CHROMIUM = process.env.MAKERDECK_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, with no background traffic (this machine has no internet); `extraArgs` add
 * switches; `executablePath` a wrapper that runs it (e.g. in another network namespace).
 */
export async function launchChromium(extraArgs: string[] = [], executablePath = CHROMIUM): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run the tests with \`npm test\`, which installs Debian's chromium`,
    );
  return chromium.launch({
    executablePath,
    args: [
      ...['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
      ...['--disable-sync', '--no-first-run', '--disable-quic', ...extraArgs],
    ],
  });
}

export function screenshotPath(name: string): string {
  const dir = path.join(repoRoot, 'test-results', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}
