// End to end on the emulated Uno: the Firmware page's Provision panel reads the real firmware's info
// over serial, sets a new device id over Improv, and reads it back — Chromium, browser mode, real core.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { encodeConfigBlock } from '../../electron/core/firmware/release/configBlock';
import { stampHex } from '../../electron/core/firmware/release/stampHex';
import { screenshotPath } from '../support/browser';
import { sampleValues } from '../support/configBlocks';
import { repoRoot } from '../support/env';
import { openApp, type OpenApp } from '../support/openApp';
import { compileWithRig, startUno, type EmulatedUno } from '../support/uno';

let scratch: string;
let uno: EmulatedUno;
let app: OpenApp;
let page: Page;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-provision-'));
  // The firmware's sources (not its sketch.yaml, which pins online platforms) built by the rig's
  // arduino-cli, then stamped as a release for one board.
  const sketch = path.join(scratch, 'firmware');
  mkdirSync(sketch);
  for (const file of readdirSync(path.join(repoRoot, 'firmware')).filter((f) => /\.(ino|cpp|h)$/.test(f)))
    cpSync(path.join(repoRoot, 'firmware', file), path.join(sketch, file));
  const { hex } = await compileWithRig(sketch, path.join(scratch, 'build'));
  const image = path.join(scratch, 'release.hex');
  writeFileSync(
    image,
    stampHex(hex, encodeConfigBlock(sampleValues({ deviceId: 'e2e-uno', wifiSsid: '', intervalS: 1 }))),
  );
  uno = await startUno(path.join(scratch, 'uno'), image);
  app = await openApp({ ...uno.env, MAKERDECK_DATA_DIR: path.join(scratch, 'data') });
  page = app.page;
}, 180_000);

afterAll(async () => {
  await app?.close();
  await uno?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("the Firmware page's Provision panel on the emulated Uno", () => {
  it('reads the board, sets its device id over Improv, and reads the new id back', async () => {
    await page.getByRole('link', { name: /Firmware/ }).click();
    await page.getByLabel('Serial port').fill(uno.pty);
    const panel = page.getByTestId('provision-panel');
    await panel.locator('summary').click();
    await panel.getByRole('button', { name: 'Read info' }).click();
    await panel
      .getByRole('status')
      .filter({ hasText: 'e2e-uno on ATmega328P, build unknown' })
      .waitFor({ timeout: 30_000 });
    await panel.getByLabel('Device id').fill('e2e-renamed');
    await panel.getByRole('button', { name: 'Provision' }).click();
    await panel.getByRole('status').filter({ hasText: 'Device id is now e2e-renamed.' }).waitFor({ timeout: 30_000 });
    await panel.getByRole('button', { name: 'Read info' }).click();
    await panel
      .getByRole('status')
      .filter({ hasText: 'e2e-renamed on ATmega328P, build unknown (values set on the board)' })
      .waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('provision'), fullPage: true });
  }, 120_000);
});
