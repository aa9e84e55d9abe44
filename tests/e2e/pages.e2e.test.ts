// End to end: Debian's Chromium drives the built renderer in browser mode against the real core.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { DoctorCheck, DoctorReport, Reply, ServerFrame } from '../../electron/contract';
import { launchChromium, screenshotPath } from '../support/browser';
import { runCli } from '../support/cli';
import { findSecrets, secretToolLookup } from '../support/files';
import { folderAccount } from '../support/keychain';
import { defaultDataDir } from '../../electron/core/paths';
import { lanAddresses } from '../../electron/core/stack/lanAddresses';
import { startServe, type Served } from '../support/serve';
import { until } from '../support/wait';

/** The data folder makerdeck serve uses here (MAKERDECK_DATA_DIR from npm test). */
const dataDir = defaultDataDir();
let served: Served;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
/** Every frame `serve` sent the page, as the page received it. */
const framesToPage: ServerFrame[] = [];

beforeAll(async () => {
  served = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 800 }, acceptDownloads: true });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => framesToPage.push(JSON.parse(String(payload)) as ServerFrame)),
  );
});

/** A successful reply carrying a doctor report. */
function isDoctorReport(reply: Reply<unknown>): reply is { ok: true; value: DoctorReport } {
  const value = reply.ok ? (reply.value as Partial<DoctorReport> | null) : null;
  return Array.isArray(value?.checks) && typeof value?.startedAt === 'string';
}

afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

describe('browser mode', () => {
  it('opens the home page from the printed URL and shows the app info over the WebSocket', async () => {
    await page.goto(served.url);
    await expect.poll(() => page.getByTestId('app-info').textContent()).toMatch(/Makerdeck .* browser mode/);
    expect(await page.getByTestId('host-mode').textContent()).toBe('browser mode'); // the footer on every page
    const logFile = path.join(dataDir, 'logs', 'makerdeck.log');
    expect(await page.getByTestId('log-file').textContent()).toBe(`Log file (for bug reports): ${logFile}`);
    // The token leaves the address bar once read.
    expect(page.url()).not.toContain('token=');
    await page.screenshot({ path: screenshotPath('home'), fullPage: true });
  });

  it('shows on the Doctor page the same checks, with the same verdicts, as makerdeck doctor', async () => {
    const cli = JSON.parse((await runCli(['doctor', '--json'])).stdout) as DoctorReport;
    await page.getByRole('link', { name: /Doctor/ }).click();
    await page.getByTestId('doctor-summary').waitFor({ timeout: 10_000 });
    const shown = await page.locator('li.check').evaluateAll((nodes) =>
      nodes.map((node) => ({
        id: node.getAttribute('data-check'),
        status: node.getAttribute('data-status'),
        title: node.querySelector('h2')?.textContent,
      })),
    );
    const byId = (a: { id: string | null }, b: { id: string | null }) => String(a.id).localeCompare(String(b.id));
    expect(shown.sort(byId)).toEqual(cli.checks.map(({ id, status, title }) => ({ id, status, title })).sort(byId));
    await page.screenshot({ path: screenshotPath('doctor'), fullPage: true });
  });

  it('runs the checks again on request: a new run, its checks arriving one by one, then its report', async () => {
    const reports = () =>
      framesToPage.flatMap((f) => (f.type === 'reply' && isDoctorReport(f.reply) ? [f.reply.value] : []));
    const first = reports().at(-1)!;
    expect(first, 'the first run of the page').toBeDefined();
    const seen = framesToPage.length;
    await page.getByRole('button', { name: 'Run checks again' }).click();
    const latest = () => (reports().at(-1) !== first ? reports().at(-1) : undefined);
    const second = await until("the second run's report", latest);
    expect(second.startedAt > first.startedAt, `${second.startedAt} after ${first.startedAt}`).toBe(true);
    const checks = framesToPage
      .slice(seen)
      .flatMap((f) => (f.type === 'event' && f.name === 'doctor.check' ? [(f.payload as DoctorCheck).id] : []));
    expect(checks.sort()).toEqual(second.checks.map((c) => c.id).sort());
    const summary = () => page.getByTestId('doctor-summary').textContent();
    await expect.poll(summary).toMatch(new RegExp(`^5 checks in ${second.durationMs} ms`));
    expect(await page.locator('li.check').count()).toBe(5);
  });

  it('creates a profile on the Profiles page; its passwords reach the keychain and never come back', async () => {
    const wifi = 'e2e-wifi-pass-1';
    const mqtt = 'e2e-mqtt-pass-2';
    await page.getByRole('link', { name: /Profiles/ }).click();
    const form = page.getByRole('form', { name: 'New profile' });
    await form.getByLabel('Name', { exact: true }).fill('E2E Bench');
    await form.getByLabel('Board').selectOption('esp32:esp32:esp32');
    // A new Wi-Fi board's host starts at this computer's LAN address; a loopback one is refused with the reason.
    const host = form.getByLabel('Host', { exact: true });
    await expect.poll(() => host.inputValue()).toBe(lanAddresses()[0] ?? '');
    await host.fill('127.0.0.1');
    await expect
      .poll(() => form.getByRole('alert').textContent())
      .toMatch(/^A board connects to itself at 127\.0\.0\.1/);
    await form.getByLabel('SSID').fill('e2e-net');
    await form.getByLabel('Wi-Fi password').fill(wifi);
    await form.getByLabel('Host', { exact: true }).fill('broker.lan');
    await form.getByLabel('MQTT password').fill(mqtt);
    await form.getByLabel('Device id').fill('e2e-bench');
    await form.getByRole('button', { name: 'Create profile' }).click();
    await page.getByRole('status').filter({ hasText: 'Created "E2E Bench"' }).waitFor();
    expect(secretToolLookup(folderAccount(dataDir, 'e2e-bench/wifi-password'))).toBe(wifi);
    expect(secretToolLookup(folderAccount(dataDir, 'e2e-bench/mqtt-password'))).toBe(mqtt);
    const edit = page.getByRole('form', { name: 'Edit E2E Bench' });
    await expect
      .poll(() => edit.getByLabel('Wi-Fi password').getAttribute('placeholder'))
      .toMatch(/stored in keychain/);
    expect(findSecrets('page', await page.content(), [wifi, mqtt])).toEqual([]);
    await page.screenshot({ path: screenshotPath('profiles'), fullPage: true });
  });

  it('shows a bad value as one clear line and keeps the saved profile', async () => {
    const edit = page.getByRole('form', { name: 'Edit E2E Bench' });
    await edit.getByLabel('Port', { exact: true }).fill('70000');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/port must be from 1 to 65535/);
    const stored = JSON.parse((await runCli(['profile', 'show', 'e2e-bench', '--json'])).stdout);
    expect(stored.mqttPort).toBe(1883);
    await page.screenshot({ path: screenshotPath('profiles-error'), fullPage: true });
  });

  it('exports with encrypted secrets, deletes, imports back, duplicates and deletes the copy', async () => {
    const passphrase = 'e2e-class-passphrase';
    await page.getByLabel(/Passphrase to include the secrets/).fill(passphrase);
    await page.getByLabel('The same passphrase again').fill(`${passphrase}-typo`);
    await page.getByRole('button', { name: 'Export' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The two passphrases differ/);
    await page.getByLabel('The same passphrase again').fill(passphrase);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export' }).click(),
    ]);
    const file = await download.path();
    const content = readFileSync(file, 'utf8');
    expect(JSON.parse(content).secrets.cipher).toBe('aes-256-gcm');
    expect(findSecrets('export', content, ['e2e-wifi-pass-1', 'e2e-mqtt-pass-2', passphrase])).toEqual([]);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted "E2E Bench"' }).waitFor();
    expect(secretToolLookup(folderAccount(dataDir, 'e2e-bench/wifi-password'))).toBeUndefined();

    await page.getByLabel(/Passphrase \(for exports with secrets\)/).fill(passphrase);
    await page.getByLabel('Exported file').setInputFiles(file);
    await page.getByRole('status').filter({ hasText: 'Imported "E2E Bench"' }).waitFor();
    expect(secretToolLookup(folderAccount(dataDir, 'e2e-bench/wifi-password'))).toBe('e2e-wifi-pass-1');

    await page.getByRole('button', { name: 'Duplicate' }).click();
    await page.getByRole('status').filter({ hasText: 'Created "E2E Bench copy"' }).waitFor();
    expect(secretToolLookup(folderAccount(dataDir, 'e2e-bench-copy/mqtt-password'))).toBe('e2e-mqtt-pass-2');
    await page.screenshot({ path: screenshotPath('profiles-list'), fullPage: true });
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted "E2E Bench copy"' }).waitFor();
    expect(secretToolLookup(folderAccount(dataDir, 'e2e-bench-copy/mqtt-password'))).toBeUndefined();
    await runCli(['profile', 'rm', 'e2e-bench']);
  });

  it("shows the stack's services and their state from the real engine on the Stack page", async () => {
    await page.getByRole('link', { name: /Stack/ }).click();
    const rows = page.locator('table.services tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(7);
    expect(await rows.first().getAttribute('data-service')).toBe('rabbitmq');
    // The LAN choice is off by default, and says what turning it on exposes.
    expect(await page.getByLabel('Open the broker to the LAN').isChecked()).toBe(false);
    await page.getByText(/MQTT port \(1883\) on every network interface of this computer/).waitFor();
    await page.screenshot({ path: screenshotPath('stack'), fullPage: true });
  });

  it('raised no console errors and no CSP violations', () => {
    expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
  });

  it('says so when the server goes away', async () => {
    await served.stop();
    await page.getByRole('status').filter({ hasText: 'Not connected' }).waitFor({ timeout: 5000 });
    await page.screenshot({ path: screenshotPath('disconnected'), fullPage: true });
  });
});
