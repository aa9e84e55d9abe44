// Resetting a lab from the Lab page in Chromium, on the real stack (the rig's RabbitMQ and InfluxDB,
// the real Secret Service): the name typed again, "also delete its data", and the summary naming the
// broker users and keychain entries removed, which are then gone from the keychain.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath } from '../support/browser';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { folderSecrets, forgetFolders } from '../support/keychain';
import { startServe, type Served } from '../support/serve';
import { lockRealStack } from '../support/stackLock';

const SEATS = ['rr-01', 'rr-02'];
let dataDir: string;
let served: Served;
let browser: Browser;
let page: Page;
let unlock: (() => void) | undefined;
const cli = (args: string[], timeoutMs = 60_000) => runCli(args, { MAKERDECK_DATA_DIR: dataDir }, { timeoutMs });
const deviceEntries = async () =>
  Object.keys(await folderSecrets(dataDir))
    .filter((account) => account.startsWith('device/'))
    .sort();

beforeAll(async () => {
  requiredEnv('DOCKER_HOST', 'the test Docker daemon');
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  unlock = await lockRealStack();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-labreset-'));
  const up = await cli(['stack', 'up', '--profile', 'core', '--json'], 240_000);
  expect(up.code, up.stdout + up.stderr).toBe(0);
  const profile = await cli(['profile', 'set', 'Class Template', '--board', 'arduino:avr:uno', '--device-id', 'tpl']);
  expect(profile.code, profile.stderr).toBe(0);
  const created = await cli([
    ...['lab', 'create', 'Room 9', '--board', 'arduino:avr:uno', '--template', 'class-template'],
    ...['--id-pattern', 'rr-{nn}', '--seats', '3'],
  ]);
  expect(created.code, created.stderr).toBe(0);
  // Two seats' boards have their own broker users, as a release makes them.
  for (const id of SEATS) {
    const login = await cli(['device-login', 'create', id]);
    expect(login.code, login.stderr).toBe(0);
  }
  served = await startServe({ MAKERDECK_DATA_DIR: dataDir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(served.url);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  if (dataDir) {
    await cli(['stack', 'reset', '--yes'], 90_000);
    await forgetFolders([dataDir]);
    rmSync(dataDir, { recursive: true, force: true });
  }
  unlock?.();
}, 120_000);

describe('resetting a lab from the Lab page (real RabbitMQ, InfluxDB and Secret Service)', () => {
  it('resets after the name is typed again and says what it removed', async () => {
    expect(await deviceEntries()).toEqual(SEATS.map((id) => `device/${id}/mqtt-password`));
    await page.getByRole('link', { name: /Lab/ }).click();
    await page.getByRole('button', { name: 'Reset lab…' }).click();
    const confirm = page.getByRole('button', { name: 'Reset Room 9' });
    await page.getByLabel("Type the lab's name to confirm").fill('Room 8');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel("Type the lab's name to confirm").fill('Room 9');
    await page.getByLabel('Also delete its data from InfluxDB').check();
    await confirm.click();
    await expect
      .poll(() => page.getByTestId('reset-summary').textContent(), { timeout: 30_000 })
      .toBe(
        'Reset Room 9: 2 broker users deleted (makerdeck-dev-rr-01, makerdeck-dev-rr-02), 2 keychain entries ' +
          'deleted, 0 seats free again; its data was deleted from InfluxDB. Kept: the built images and the 0 log entries.',
      );
    expect(await deviceEntries()).toEqual([]);
    expect(await page.getByTestId('reset-error').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('lab-reset'), fullPage: true });
  }, 60_000);
});
