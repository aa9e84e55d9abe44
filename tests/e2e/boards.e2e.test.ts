// End to end, Chromium in browser mode with the real arduino-cli: a compile for a board whose core is
// missing offers to install it on the Firmware page; the install shows a download bar, and the next
// compile succeeds. Then the Boards page lists the core and removes it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBoardPackage } from '../../scripts/rig/boardIndex.js';
import { defaultRigCache } from '../../scripts/rig/common.js';
import { startBoardIndexServer, type BoardIndexServer } from '../support/boardIndexServer';
import { launchChromium, screenshotPath } from '../support/browser';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { freshArduinoConfig } from '../support/freshArduinoConfig';
import { callServe, startServe, type Served } from '../support/serve';

let scratch: string;
let server: BoardIndexServer;
let served: Served;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-boards-'));
  server = await startBoardIndexServer(await ensureBoardPackage({ cacheDir: defaultRigCache(), log: () => {} }));
  const env = {
    MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
    MAKERDECK_ARDUINO_CLI_CONFIG: freshArduinoConfig(path.join(scratch, 'arduino')),
  };
  const created = await runCli(
    [
      'profile',
      'set',
      'Boards Page',
      '--board',
      'makerdeckavr:avr:uno',
      '--ssid',
      'lab',
      '--mqtt-host',
      'localhost',
      '--device-id',
      'boards-page',
    ],
    env,
  );
  expect(created.code, created.stderr).toBe(0);
  served = await startServe(env);
  await callServe(served, 'boards.addIndex', { url: server.url('slow') });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(served.url);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('board cores in the pages', () => {
  it('offers to install the missing core after a compile, shows the download, then compiles', async () => {
    await page.getByRole('link', { name: /Firmware/ }).click();
    await page.getByRole('button', { name: 'Build' }).click();
    await page.getByRole('alert').filter({ hasText: 'makerdeckavr:avr is not installed' }).waitFor({ timeout: 30_000 });
    await page.getByText('or run makerdeck boards install makerdeckavr:avr').waitFor();
    await page.getByRole('button', { name: 'Install makerdeckavr:avr' }).click();
    await page.locator('progress[aria-label^="Downloading makerdeckavr:avr-gcc"]').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('boards-install'), fullPage: true });
    await page.getByRole('status').filter({ hasText: 'Installed makerdeckavr:avr@1.8.7: compile again.' }).waitFor({
      timeout: 90_000,
    });
    await page.getByRole('button', { name: 'Build' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Compiled for makerdeckavr:avr:uno' })
      .waitFor({ timeout: 90_000 });
  }, 200_000);

  it('lists the installed core on the Boards page and removes it', async () => {
    await page.getByRole('link', { name: /Boards/ }).click();
    const row = page.getByRole('row').filter({ hasText: 'makerdeckavr:avr' });
    await row.waitFor();
    expect(await row.textContent()).toContain('1.8.7');
    await page.screenshot({ path: screenshotPath('boards'), fullPage: true });
    await row.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('status').filter({ hasText: 'Removed makerdeckavr:avr.' }).waitFor({ timeout: 30_000 });
    await page.getByText('No board cores installed.').waitFor();
  }, 60_000);
});
