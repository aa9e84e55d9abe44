// End to end on the emulated Uno: flash a file from the Firmware page (progress bar, verify), then
// watch its telemetry on the Monitor page and in the plotter — Chromium, browser mode, real core.
// Then an 800 KiB ESP32 .bin from the same page, uploaded in chunks, to the ROM-loader stand-in.
// Last, a release: Build, then "Flash this board as <profile>" with its phases and the boot check.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUnoRig } from '../../scripts/rig/uno.js';
import { screenshotPath } from '../support/browser';
import { openApp, type OpenApp } from '../support/openApp';
import { callServe, type Served } from '../support/serve';
import { silentPty, startUno, type EmulatedUno } from '../support/uno';
import { EspRomStandIn } from '../rig/esp/espRomStandIn';
import { ptyStandIn } from '../rig/esp/ptyWire';
import { fakeEsp32Merged } from '../rig/esp/testImages';

let scratch: string;
let uno: EmulatedUno;
let served: Served;
let app: OpenApp;
let page: Page;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-uno-'));
  uno = await startUno(path.join(scratch, 'uno'));
  // The server gets the rig's shim, so the flasher's DTR pulse really resets the emulated board.
  app = await openApp({
    ...uno.env,
    MAKERDECK_DATA_DIR: path.join(scratch, 'data'),
    MAKERDECK_CACHE_DIR: path.join(scratch, 'cache'),
  });
  ({ served, page } = app);
}, 60_000);

afterAll(async () => {
  await app?.close();
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
    await page
      .locator('progress[aria-label="write"], progress[aria-label="verify"]')
      .first()
      .waitFor({ timeout: 30_000 }); // the upload and the bootloader's sync come first; slow under load
    await page.screenshot({ path: screenshotPath('firmware-flashing'), fullPage: true });
    await page
      .getByRole('status')
      .filter({ hasText: /Flashed and verified \d+ bytes/ })
      .waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('firmware'), fullPage: true });
  }, 60_000);

  it("shows the board's lines in the monitor and plots their numbers", async () => {
    await page.getByRole('link', { name: /Monitor/ }).click();
    await page.getByLabel('Serial port').fill(uno.pty);
    await page.getByRole('button', { name: 'Connect' }).click();
    const lines = page.getByTestId('monitor-lines');
    await expect
      // The board resets on open and boots first; an emulated Uno beside a compile runs slow.
      .poll(
        async () => {
          // A failed open or a closed port shows a line: say it, rather than only "0 lines".
          const alert = await page.getByRole('alert').allTextContents();
          if (alert.length > 0) throw new Error(`the monitor says: ${alert.join(' ')}`);
          return Number(await lines.getAttribute('data-count'));
        },
        { timeout: 45_000 },
      )
      .toBeGreaterThan(5);
    await expect.poll(() => page.getByTestId('plotter').getAttribute('data-series')).toContain('counter');
    expect(await lines.textContent()).toMatch(/telemetry,device=uno-test counter=\d+i/);
    await page.screenshot({ path: screenshotPath('monitor'), fullPage: true });
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('button', { name: 'Connect' }).waitFor();
  }, 90_000);

  it('uploads an 800 KiB ESP32 .bin in chunks with a progress bar, then flashes the stand-in over a pty', async () => {
    const image = fakeEsp32Merged(800 * 1024);
    const file = path.join(scratch, 'app-800k.bin');
    writeFileSync(file, image);
    const standIn = new EspRomStandIn({ chip: 'esp32', resetOnOpen: true, autoReset: false });
    const relay = await ptyStandIn(standIn);
    try {
      await page.getByRole('link', { name: /Firmware/ }).click();
      // Every progress bar the page shows, as it shows it (the upload takes well under a second).
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { progressSeen: string[] }).progressSeen = seen;
        const describe = (bar: Element) => {
          const [label, value, max] = ['aria-label', 'value', 'max'].map((name) => bar.getAttribute(name));
          return `${label} ${value}/${max}`;
        };
        const record = () => document.querySelectorAll('progress').forEach((bar) => seen.push(describe(bar)));
        new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true });
      });
      await page.getByLabel('Or a file (.hex / .bin)').setInputFiles(file);
      await page.getByLabel('Serial port').fill(relay.path);
      await page.getByLabel('Board').selectOption('esp32');
      await page.getByRole('button', { name: 'Flash' }).click();
      const flashed = page.getByRole('status').filter({ hasText: `Flashed and verified ${image.length} bytes` });
      await flashed.waitFor({ timeout: 90_000 });
      const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
      expect(seen).toContain(`upload ${image.length}/${image.length}`);
      expect(seen.filter((bar) => bar.startsWith('upload ')).length).toBeGreaterThanOrEqual(5);
      expect(Buffer.from(standIn.flash.subarray(0, image.length)).equals(Buffer.from(image))).toBe(true);
      await page.screenshot({ path: screenshotPath('firmware-esp32-upload'), fullPage: true });
    } finally {
      await relay.close();
    }
  }, 120_000);

  it('releases a profile: Build, then the phases of "Flash this board as", ending with the boot check', async () => {
    await callServe(served, 'profiles.save', {
      fields: { name: 'E2E Desk', board: 'arduino:avr:uno', deviceId: 'e2e-desk', telemetryIntervalS: 1 },
    });
    await page.goto(served.url); // the page lists the profiles it finds when it opens
    await page.getByRole('link', { name: /Firmware/ }).click();
    await page.getByLabel('Profile').selectOption({ label: 'E2E Desk (arduino:avr:uno)' });
    await page.getByRole('button', { name: 'Build' }).click();
    const build = page.getByRole('definition').filter({ hasText: /^[0-9a-f]{16} for arduino:avr:uno — fresh/ });
    await build.waitFor({ timeout: 180_000 });
    const buildHash = (await build.textContent())!.slice(0, 16);
    await page
      .getByRole('definition')
      .filter({ hasText: /^\d+ of 32256 bytes/ })
      .waitFor();

    await page.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { phasesSeen: Set<string> }).phasesSeen = seen;
      const record = () =>
        document.querySelectorAll('.release-phases li').forEach((li) => {
          seen.add(`${li.getAttribute('data-phase')}:${li.getAttribute('data-state')}`);
          if (li.querySelector('progress')) seen.add(`${li.getAttribute('data-phase')}:progress`);
        });
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByLabel('Serial port').fill(uno.pty);
    await page.getByRole('button', { name: 'Flash this board as E2E Desk' }).click();
    const phases = page.getByRole('list', { name: 'Release phases' });
    await phases.locator('li[data-phase="boot"][data-state="active"]').waitFor({ timeout: 60_000 });
    await page.screenshot({ path: screenshotPath('firmware-release-boot-check'), fullPage: true });
    await page
      .getByRole('status')
      .filter({ hasText: `Boot check: the board reports device e2e-desk, build ${buildHash}` })
      .waitFor({ timeout: 30_000 });
    expect(await phases.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-state')))).toEqual(
      ['done', 'done', 'done', 'done', 'done', 'done'],
    );
    expect(await phases.locator('li[data-phase="compile"]').textContent()).toContain(`build ${buildHash}, cached`);
    expect(await phases.locator('li[data-phase="boot"]').textContent()).toContain(
      `the board reports e2e-desk (build ${buildHash})`,
    );
    const seen = await page.evaluate(() => [...(window as unknown as { phasesSeen: Set<string> }).phasesSeen]);
    expect(seen).toEqual(expect.arrayContaining(['write:active', 'write:progress', 'boot:active', 'boot:done']));
    await page.screenshot({ path: screenshotPath('firmware-release'), fullPage: true });

    // A port where no bootloader answers: the connect phase fails, the later ones stay pending.
    const silent = await silentPty();
    try {
      await page.getByLabel('Serial port').fill(silent.path);
      await page.getByRole('button', { name: 'Flash this board as E2E Desk' }).click();
      await phases.locator('li[data-phase="connect"][data-state="failed"]').waitFor({ timeout: 30_000 });
      expect(
        await phases.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-state'))),
      ).toEqual(['done', 'done', 'failed', 'pending', 'pending', 'pending']);
      await page.getByRole('alert').waitFor();
    } finally {
      silent.stop();
    }
  }, 300_000);
});
