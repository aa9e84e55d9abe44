// The Pack page in Chromium (browser mode, real core): it renders what can go into a pack (installed
// cores, profiles, arduino-cli targets), refuses mismatched passphrases and a missing path in one line
// each before anything is sent, and shows the host's refusal as its one line.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath } from '../support/browser';
import { runCli } from '../support/cli';
import { freshArduinoConfig } from '../support/freshArduinoConfig';
import { scratchEnv } from '../support/scratchEnv';
import { startServe, type Served } from '../support/serve';

const PASSPHRASE = 'field site 7 passphrase';

let scratch: string;
let served: Served;
let browser: Browser;
let page: Page;

const createPanel = () => page.getByRole('region', { name: 'Create a pack' });
const importPanel = () => page.getByRole('region', { name: 'Import a pack' });
const alertIn = (panel: ReturnType<typeof createPanel>) => panel.getByRole('alert');

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-pack-'));
  const env = {
    ...scratchEnv(scratch),
    MAKERDECK_ARDUINO_CLI_CONFIG: freshArduinoConfig(path.join(scratch, 'arduino')),
  };
  const profile = ['profile', 'set', 'Field Uno', '--board', 'arduino:avr:uno', '--ssid', 'field'];
  const made = await runCli([...profile, '--mqtt-host', '192.0.2.20', '--device-id', 'field-uno'], env);
  expect(made.code, made.stderr).toBe(0);
  served = await startServe(env);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(served.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the Pack page (real core in browser mode)', () => {
  it('renders both flows with the profiles, no cores and this machine’s arduino-cli chosen', async () => {
    await page.getByRole('link', { name: /Packs/ }).click();
    await page.getByRole('heading', { name: 'Lab packs' }).waitFor();
    await page.getByText('No board cores installed: install one on the Boards page.').waitFor();
    const profiles = createPanel().getByRole('group', { name: 'Profiles' });
    await profiles.getByRole('checkbox', { name: /Field Uno/ }).waitFor();
    const here = createPanel().getByRole('checkbox', { name: `${process.platform}-${process.arch} (this machine)` });
    await expect.poll(() => here.isChecked()).toBe(true);
    expect(await createPanel().getByRole('checkbox', { checked: true }).count()).toBe(1);
    expect(await createPanel().getByRole('button', { name: 'Create pack' }).isDisabled()).toBe(true);
    await importPanel().getByRole('button', { name: 'Read pack' }).waitFor();
    // The passphrase is asked only once a profile is chosen.
    expect(await createPanel().getByLabel('The same passphrase again').count()).toBe(0);
  }, 30_000);

  it('refuses passphrases that differ and an import without a path, each in one line', async () => {
    await createPanel()
      .getByRole('checkbox', { name: /Field Uno/ })
      .check();
    await createPanel()
      .getByLabel(/^Passphrase/)
      .fill(PASSPHRASE);
    await createPanel().getByLabel('The same passphrase again').fill(`${PASSPHRASE}!`);
    await createPanel().getByRole('button', { name: 'Check sizes' }).click();
    await expect
      .poll(() => alertIn(createPanel()).textContent())
      .toBe('The two passphrases differ: nothing was written; type the same one twice');
    expect(await page.getByTestId('pack-plan').count()).toBe(0);
    await importPanel().getByRole('button', { name: 'Read pack' }).click();
    await expect
      .poll(() => alertIn(importPanel()).textContent())
      .toBe('Name the pack file: a path on the machine running Makerdeck, e.g. /media/usb/room3.mdpack');
    expect(await importPanel().getByRole('button', { name: 'Import pack' }).count()).toBe(0);
  }, 30_000);

  it('shows the host’s refusal as its one line (placeholders until the pack core lands)', async () => {
    await createPanel().getByLabel('The same passphrase again').fill(PASSPHRASE);
    await createPanel().getByRole('button', { name: 'Check sizes' }).click();
    await expect.poll(() => alertIn(createPanel()).textContent()).toBe('Lab packs are not built yet');
    await importPanel()
      .getByLabel(/^Pack file/)
      .fill(path.join(scratch, 'room.mdpack'));
    await importPanel().getByRole('button', { name: 'Read pack' }).click();
    await expect.poll(() => alertIn(importPanel()).textContent()).toBe('Lab packs are not built yet');
    await page.screenshot({ path: screenshotPath('pack'), fullPage: true });
  }, 30_000);
});
