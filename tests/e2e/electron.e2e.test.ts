// The Electron app itself, where an Electron runtime exists. Elsewhere it is reported as skipped
// with the reason, and the same renderer and core are covered by the browser-mode suite.
import { describe, expect, it } from 'vitest';
import { _electron as electron } from 'playwright-core';
import { findElectron } from '../../scripts/electronRuntime.js';
import { repoRoot } from '../support/env';
import { screenshotPath } from '../support/browser';

const runtime = findElectron();
const skipReason = 'reason' in runtime ? runtime.reason : undefined;
if (skipReason) console.log(`[electron launch test] skipped: ${skipReason}`);

describe('Electron app', () => {
  it.skipIf(skipReason !== undefined)(
    `launches with a locked-down window${skipReason ? ` (skipped: ${skipReason})` : ''}`,
    async () => {
      const app = await electron.launch({
        executablePath: (runtime as { path: string }).path,
        args: [repoRoot],
        env: { ...process.env } as Record<string, string>,
      });
      try {
        const page = await app.firstWindow();
        await page.getByTestId('app-info').waitFor();
        expect(await page.getByTestId('app-info').textContent()).toMatch(/desktop app/);
        expect(await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe(
          'undefined',
        );
        expect(
          await page.evaluate(() => typeof (window as unknown as { makerdeck?: { call?: unknown } }).makerdeck?.call),
        ).toBe('function');
        // No Node in the page: nodeIntegration off, sandboxed, and the bridge is the only way out.
        expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
        // Navigation away from the app is refused.
        await page.evaluate(() => (window.location.href = 'https://example.com/'));
        await page.waitForTimeout(300);
        expect(page.url()).toMatch(/^app:\/\/makerdeck\//);
        await page.screenshot({ path: screenshotPath('electron-home') });
      } finally {
        await app.close();
      }
    },
  );
});
