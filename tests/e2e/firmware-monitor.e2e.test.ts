// End to end on the emulated Uno: flash a file from the Firmware page (progress bar, verify), then
// watch its telemetry on the Monitor page and in the plotter — Chromium, browser mode, real core.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUnoRig } from '../../scripts/rig/uno.js';
import { launchChromium, screenshotPath } from '../support/browser';
import { startServe, type Served } from '../support/serve';
import { startUno, type EmulatedUno } from '../support/uno';

let scratch: string;
let uno: EmulatedUno;
let served: Served;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-uno-'));
  uno = await startUno(path.join(scratch, 'uno'));
  // The server gets the rig's shim, so the flasher's DTR pulse really resets the emulated board.
  served = await startServe({ ...uno.env, MAKERDECK_DATA_DIR: path.join(scratch, 'data') });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(served.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await uno?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('Firmware and Monitor pages on the emulated Uno', () => {
  it('flashes a .hex file with a progress bar and reports it verified', async () => {
    const { testHex } = await buildUnoRig();
    await page.getByRole('link', { name: /Firmware/ }).click();
    await page.getByLabel('Or a file (.hex / .bin)').setInputFiles(testHex);
    await page.getByLabel('Serial port').fill(uno.pty);
    await page.getByLabel('Board').selectOption('uno');
    await page.getByRole('button', { name: 'Flash' }).click();
    await page.locator('progress[aria-label="write"], progress[aria-label="verify"]').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: screenshotPath('firmware-flashing'), fullPage: true });
    await page.getByRole('status').filter({ hasText: /Flashed and verified \d+ bytes/ }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('firmware'), fullPage: true });
  }, 60_000);

  it('shows the board\'s lines in the monitor and plots their numbers', async () => {
    await page.getByRole('link', { name: /Monitor/ }).click();
    await page.getByLabel('Serial port').fill(uno.pty);
    await page.getByRole('button', { name: 'Connect' }).click();
    const lines = page.getByTestId('monitor-lines');
    await expect.poll(async () => Number(await lines.getAttribute('data-count')), { timeout: 15_000 }).toBeGreaterThan(5);
    await expect.poll(() => page.getByTestId('plotter').getAttribute('data-series')).toContain('counter');
    expect(await lines.textContent()).toMatch(/telemetry,device=uno-test counter=\d+i/);
    await page.screenshot({ path: screenshotPath('monitor'), fullPage: true });
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('button', { name: 'Connect' }).waitFor();
  }, 60_000);
});
