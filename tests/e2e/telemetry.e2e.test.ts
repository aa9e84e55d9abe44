// The Telemetry page in Chromium (browser mode, real core) against a real broker (Mosquitto):
// live chart and device cards, rejects counted through a flood, a broker restart survived, export,
// and fields named like built-ins, formulas or markup charted and exported beside a noisy device.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto } from '../../scripts/services/mosquitto.js';
import { launchChromium, screenshotPath } from '../support/browser';
import { runCli } from '../support/cli';
import { startServe, type Served } from '../support/serve';

let scratch: string;
let broker: Awaited<ReturnType<typeof startMosquitto>>;
let served: Served;
let browser: Browser;
let page: Page;

const publisher = () => mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
const count = async (testId: string) => Number((await page.getByTestId(testId).textContent())!.replace(/\D/g, ''));

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-telemetry-'));
  broker = await startMosquitto({ dir: path.join(scratch, 'broker') });
  const env = { MAKERDECK_DATA_DIR: path.join(scratch, 'data') };
  const attached = await runCli(
    ['env', 'attach', '--mqtt-url', broker.url, '--influx-url', 'http://127.0.0.1:9', '--influx-db', 'makerdeck'],
    env,
  );
  expect(attached.code, attached.stderr).toBe(0);
  served = await startServe(env);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1300, height: 1000 }, acceptDownloads: true });
  await page.goto(served.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await broker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the Telemetry page (real broker: Mosquitto)', () => {
  it('connects by itself and charts two devices overlaid, with online status and last values', async () => {
    await page.getByRole('link', { name: /Telemetry/ }).click();
    await expect
      .poll(() => page.getByTestId('broker-state').getAttribute('data-state'), { timeout: 10_000 })
      .toBe('connected');
    const client = await publisher();
    for (const device of ['lab-1', 'lab-2'])
      await client.publishAsync(`makerdeck/${device}/status`, 'online', { retain: true });
    for (let i = 0; i < 40; i++) {
      await client.publishAsync('makerdeck/lab-1/telemetry', `telemetry,device=lab-1 temp_c=${20 + Math.sin(i / 5)}`);
      await client.publishAsync('makerdeck/lab-2/telemetry', `telemetry,device=lab-2 temp_c=${22 + Math.cos(i / 5)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await client.endAsync();
    await expect
      .poll(() => page.getByTestId('telemetry-panel').getAttribute('data-series'))
      .toBe('lab-1/temp_c,lab-2/temp_c');
    await expect.poll(() => page.getByTestId('device-lab-1').getAttribute('data-status')).toBe('online');
    await expect.poll(() => count('telemetry-counts')).toBeGreaterThanOrEqual(80);
    expect(await page.locator('.telemetry-page canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('telemetry'), fullPage: true });
  }, 60_000);

  it('counts a malformed flood as rejected and stays responsive', async () => {
    const client = await publisher();
    for (let i = 0; i < 2000; i++)
      client.publish(
        'makerdeck/lab-1/telemetry',
        i % 2 ? Buffer.from([0, 255, 0]) : 'telemetry,device=lab-1 temp_c=oops',
      );
    await client.endAsync();
    await expect.poll(() => count('rejected-count'), { timeout: 10_000 }).toBe(2000);
    await page.getByText('Why were payloads rejected?').click();
    await expect
      .poll(() => page.getByRole('table', { name: 'Recent rejected payloads' }).textContent())
      .toMatch(/binary data, not line protocol/);
    await page.getByRole('button', { name: 'Pause' }).click(); // still answers clicks
    await page.getByRole('button', { name: 'Resume' }).click();
  }, 30_000);

  it('says the broker is gone and recovers by itself when it is back', async () => {
    await broker.stop();
    await expect
      .poll(() => page.getByTestId('broker-state').getAttribute('data-state'), { timeout: 10_000 })
      .toBe('reconnecting');
    expect(await page.getByTestId('broker-state').textContent()).toMatch(/Broker unreachable — reconnecting by itself/);
    await page.screenshot({ path: screenshotPath('telemetry-broker-down'), fullPage: true });
    broker = await startMosquitto({ dir: path.join(scratch, 'broker'), port: broker.port });
    await expect
      .poll(() => page.getByTestId('broker-state').getAttribute('data-state'), { timeout: 20_000 })
      .toBe('connected');
  }, 40_000);

  it('zooms by dragging, returns to live on double-click, and saves the chart as PNG', async () => {
    const plot = page.getByTestId('telemetry-chart-plot').locator('.u-over');
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.getByRole('button', { name: 'Back to live' }).waitFor({ timeout: 5000 });
    await plot.dblclick();
    await expect.poll(() => page.getByRole('button', { name: 'Back to live' }).count()).toBe(0);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Save PNG' }).click(),
    ]);
    expect(
      readFileSync((await download.path())!)
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  }, 20_000);

  it('exports the visible window as CSV', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe('time,time_ms,device,field,value');
    expect(
      csv.filter((line) => line.includes(',lab-1,temp_c,')),
      csv.join('\n'),
    ).toHaveLength(40);
    expect(csv.filter((line) => line.includes(',lab-2,temp_c,')).length).toBe(40);
  }, 20_000);

  it('charts and exports fields named like built-ins, formulas or markup while a noisy device floods', async () => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const names = ['constructor', '__proto__', 'toString', '=cmd', '<img src=x onerror=window.__pwned=1>'];
    const escape = (name: string) => name.replace(/[,= \\]/g, (c) => `\\${c}`);
    const shownSeries = () => page.getByTestId('telemetry-panel').getAttribute('data-series');
    const client = await publisher();
    for (let i = 0; i < 10; i++) {
      const line = `telemetry ${names.map((n, k) => `${escape(n)}=${i * 10 + k}`).join(',')}`;
      await client.publishAsync('makerdeck/constructor/telemetry', line);
      await client.publishAsync('makerdeck/toString/telemetry', line);
      const wide = Array.from({ length: 256 }, (_, f) => `f${f}=${i}`).join();
      await client.publishAsync('makerdeck/noisy-1/telemetry', `telemetry ${wide}`);
    }
    await client.endAsync();
    await expect.poll(() => page.getByTestId('device-constructor').locator('dt').allTextContents()).toEqual(names);
    await expect.poll(() => page.getByTestId('device-noisy-1').locator('dt').count()).toBe(64); // its quota
    for (const field of names) {
      await page.getByLabel('Field').selectOption(field);
      await expect.poll(() => shownSeries()).toBe(`constructor/${field},toString/${field}`);
      const exported = async () => {
        const exportCsv = page.getByRole('button', { name: 'Export CSV' });
        const [download] = await Promise.all([page.waitForEvent('download'), exportCsv.click()]);
        return readFileSync((await download.path())!, 'utf8')
          .trim()
          .split('\n')
          .slice(1);
      };
      const cell = field.startsWith('=') ? `'${field}` : field;
      const rows = async () => (await exported()).filter((row) => row.includes(`,${cell},`)).length;
      await expect.poll(rows, { timeout: 10_000 }).toBe(20);
    }
    expect(await page.locator('.telemetry-page canvas').count()).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.getByLabel('Field').selectOption('temp_c');
    await expect.poll(() => shownSeries()).toBe('lab-1/temp_c,lab-2/temp_c');
    await page.screenshot({ path: screenshotPath('telemetry-hostile-names'), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);
});
