// The Lab page and the teacher grid in Chromium (browser mode, real core) against a real broker
// (Mosquitto): a lab made from a template, a roster imported (a bad one changes nothing), the flash
// station releasing and flashing an emulated Uno (simavr + real optiboot) plugged into a stand-in
// USB hub, its port card, the roster and the log agreeing, a retry, the reset's confirmation; then
// 30 boards publishing at 1 Hz for 20 s into the teacher grid, with frame timing and long tasks.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto } from '../../scripts/services/mosquitto.js';
import { launchChromium, screenshotPath } from '../support/browser';
import { runCli } from '../support/cli';
import { repoRoot } from '../support/env';
import { scratchEnv } from '../support/scratchEnv';
import { startServe, type Served } from '../support/serve';
import { UsbHub } from '../support/usbHub';

const BOARDS = 30;
const TICKS = 20;
const LAB = 'Room 3';
const id = (seat: number) => `lab3-${String(seat).padStart(2, '0')}`;
const student = (seat: number) => `Student ${String(seat).padStart(2, '0')}`;
/** What board `seat` sends at tick `i`: its own level plus a wave, two decimals. */
const reading = (seat: number, i: number) => Math.round((20 + seat + Math.sin(i / 3)) * 100) / 100;

let scratch: string;
let broker: Awaited<ReturnType<typeof startMosquitto>>;
let served: Served;
let browser: Browser;
let page: Page;
let hub: UsbHub;

const rosterCsv = () =>
  ['Seat,Student,Device id', ...Array.from({ length: BOARDS }, (_, k) => `${k + 1},${student(k + 1)},${id(k + 1)}`)]
    .join('\n')
    .concat('\n');
const rosterRows = () => page.getByRole('table', { name: 'Roster' }).locator('tbody tr');
const download = async (button: string) => {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
  return { name: file.suggestedFilename(), text: readFileSync((await file.path())!, 'utf8') };
};

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-lab-'));
  broker = await startMosquitto({ dir: path.join(scratch, 'broker') });
  hub = new UsbHub(path.join(scratch, 'sys'));
  const env = { ...scratchEnv(scratch), MAKERDECK_SYSFS_ROOT: hub.root };
  const attached = await runCli(
    ['env', 'attach', '--mqtt-url', broker.url, '--influx-url', 'http://127.0.0.1:9', '--influx-db', 'makerdeck'],
    env,
  );
  expect(attached.code, attached.stderr).toBe(0);
  const template = ['profile', 'set', 'Class Uno', '--board', 'arduino:avr:uno', '--ssid', 'lab'];
  const made = await runCli([...template, '--mqtt-host', '192.0.2.10', '--device-id', 'class-uno'], env);
  expect(made.code, made.stderr).toBe(0);
  served = await startServe(env);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
  await page.goto(served.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await hub?.stopAll();
  await broker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the Lab page (real core in browser mode)', () => {
  it('creates a lab from a template with seat ids from a pattern', async () => {
    await page.getByRole('link', { name: /Lab/ }).click();
    await page.getByLabel('Class name').fill(LAB);
    await expect.poll(() => page.getByLabel('Board').inputValue()).toBe('arduino:avr:uno');
    expect(await page.getByLabel('Profile').locator('option:checked').textContent()).toBe('Class Uno');
    await page.getByLabel('Id pattern').fill('lab3-{nn}');
    await page.getByLabel('Seats').fill('12');
    await page.getByRole('button', { name: 'Create lab' }).click();
    await expect.poll(() => page.getByTestId('lab-message').textContent()).toBe(`Created ${LAB} with 12 seats.`);
    await expect
      .poll(() => page.getByTestId(`seat-counts-${LAB}`).textContent())
      .toBe('12 seats: 0 online, 0 flashed, 0 silent, 0 failed, 0 flashing, 12 free');
    await expect.poll(() => rosterRows().count()).toBe(12);
    expect(await rosterRows().first().getAttribute('data-device')).toBe('lab3-01');
    expect(await rosterRows().last().getAttribute('data-device')).toBe('lab3-12');
    expect(await rosterRows().first().locator('.seat-badge').textContent()).toMatch(/○\s*free/);
  }, 30_000);

  it('refuses a bad pattern with the one line the core sends, and creates nothing', async () => {
    await page.getByLabel('Class name').fill('Room 4');
    await page.getByLabel('Id pattern').fill('room4');
    await page.getByRole('button', { name: 'Create lab' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('The id pattern needs a seat number slot: {n}, {nn} or {nnn} (e.g. lab3-{nn}) (lab.create: idPattern)');
    expect(await page.getByRole('table', { name: 'Labs' }).locator('tbody tr').count()).toBe(1);
  }, 20_000);

  it('imports a roster CSV; a bad roster shows its line and the roster stays', async () => {
    const file = page.getByLabel('Roster CSV (seat, student, device id)');
    await file.setInputFiles({ name: 'room3.csv', mimeType: 'text/csv', buffer: Buffer.from(rosterCsv()) });
    await expect.poll(() => page.getByTestId('lab-message').textContent()).toBe(`Imported room3.csv: ${BOARDS} seats.`);
    await expect.poll(() => rosterRows().count()).toBe(BOARDS);
    const third = page.getByRole('table', { name: 'Roster' }).locator('tr[data-device="lab3-03"]');
    expect(await third.locator('td').allTextContents()).toEqual(['3', 'Student 03', 'lab3-03', '○ free', '', '', '']);
    const twice = 'Seat,Student,Device id\n1,Ada,desk-1\n2,Grace,desk-1\n';
    await file.setInputFiles({ name: 'twice.csv', mimeType: 'text/csv', buffer: Buffer.from(twice) });
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('Roster: rows 2 and 3 both use device id desk-1: every board needs its own');
    expect(await rosterRows().count()).toBe(BOARDS);
    expect(await page.getByRole('table', { name: 'Roster' }).locator('tr[data-device="desk-1"]').count()).toBe(0);
  }, 30_000);

  it('shows a refused station start as the one line the core sends, beside its button', async () => {
    await page.getByLabel('At once').fill('9');
    await page.getByRole('button', { name: 'Start station' }).click();
    const error = page.getByTestId('station-error');
    await expect
      .poll(() => error.textContent())
      .toBe('✘ At most 8 boards are flashed at once (lab.stationStart: parallel)');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await page.getByTestId('station-state').textContent()).toBe('Stopped');
    await page.getByLabel('At once').fill('2');
  }, 20_000);

  it('runs the station: an emulated Uno plugged in gets a port card that goes through its phases', async () => {
    await page.getByLabel('Online within (s)').fill('60');
    await page.getByRole('button', { name: 'Start station' }).click();
    await expect.poll(() => page.getByTestId('station-state').textContent()).toBe('Running, 2 at once');
    const plugged = await hub.plugUno(0, { serial: 'UNO-E2E' }, scratch);
    const card = page.getByTestId(`port-${plugged.port}`);
    await expect.poll(() => card.count(), { timeout: 5000 }).toBe(1);
    expect(await card.textContent()).toContain('USB serial UNO-E2E (USB 2341:0043)');
    // The write's progress bar moves (the build is compiled first, once).
    const written = () => card.getByRole('progressbar').evaluate((bar) => (bar as HTMLProgressElement).value);
    await expect.poll(() => card.getAttribute('data-phase'), { timeout: 240_000, interval: 100 }).toBe('write');
    await expect.poll(written, { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
    expect(await card.textContent()).toContain('lab3-01 · Student 01');
    await page.screenshot({ path: screenshotPath('lab'), fullPage: true });
    // Done only at its first telemetry under its own id, through the gateway on its port (the real broker).
    const results = ['online', 'silent', 'failed'];
    await expect
      .poll(() => card.getAttribute('data-phase'), { timeout: 120_000 })
      .toSatisfy((p: string) => results.includes(p));
    const phase = (await card.getAttribute('data-phase'))!;
    expect(phase, (await card.textContent()) ?? '').toBe('online');
    expect(await card.getByTestId('port-reason').count()).toBe(0);
    // The roster says what the card says: the seat, its port and its build.
    const seat = page.getByRole('table', { name: 'Roster' }).locator('tr[data-device="lab3-01"]');
    await expect.poll(() => seat.getAttribute('data-state'), { timeout: 10_000 }).toBe(phase);
    const cells = await seat.locator('td').allTextContents();
    expect(cells[4]).toBe('ttyACM0');
    expect(await seat.locator('td').nth(4).getAttribute('title')).toBe(plugged.port);
    expect(cells[5]).toMatch(/^[0-9a-f]{16}$/);
  }, 400_000);

  it('shows no Retry on a seat that came online; the station stops, and the board is unplugged', async () => {
    const seat = page.getByRole('table', { name: 'Roster' }).locator('tr[data-device="lab3-01"]');
    expect(await seat.getAttribute('data-state')).toBe('online');
    expect(await seat.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Stop station' }).click();
    await expect.poll(() => page.getByTestId('station-state').textContent()).toBe('Stopped');
    // Its gateway ends with its port: the teacher grid below charts only the points it is sent.
    await hub.removeUno(0);
  }, 60_000);

  it('exports the station log as CSV and JSON files, one entry per go', async () => {
    const json = await download('Export log (JSON)');
    expect(json.name).toBe('Room-3-log.json');
    const entries = JSON.parse(json.text) as Array<Record<string, unknown>>;
    expect(entries.length).toBeGreaterThanOrEqual(1);
    expect(entries[0]).toMatchObject({
      port: hub.portOf(0),
      usbSerial: 'UNO-E2E',
      deviceId: 'lab3-01',
      student: 'Student 01',
    });
    await expect
      .poll(() => page.getByTestId('lab-message').textContent())
      .toBe(`Exported ${entries.length} log entries as JSON.`);
    await page.getByText(/^Station log \(\d+\)$/).click();
    const logRows = page.getByRole('table', { name: 'Station log' }).locator('tbody tr');
    await expect.poll(() => logRows.count()).toBe(entries.length);
    expect(await logRows.first().locator('td').nth(3).textContent()).toBe('lab3-01');
    expect(await logRows.first().locator('td').nth(5).textContent()).toContain(String(entries.at(-1)!.result));
    const csv = await download('Export log (CSV)');
    expect(csv.name).toBe('Room-3-log.csv');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('time,port,usbSerial,identity,deviceId,student,buildHash,result,reason,seconds');
    expect(lines.slice(1).map((line) => line.split(',').slice(1, 6))).toEqual(
      entries.map(() => [hub.portOf(0), 'UNO-E2E', 'usb-serial', 'lab3-01', 'Student 01']),
    );
  }, 20_000);

  it('asks for the lab name typed again before a reset, and shows why it cannot reset without the stack', async () => {
    await page.getByRole('button', { name: 'Reset lab…' }).click();
    const confirm = page.getByRole('button', { name: `Reset ${LAB}` });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel("Type the lab's name to confirm").fill('Room 33');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel("Type the lab's name to confirm").fill(LAB);
    await page.getByLabel('Also delete its data from InfluxDB').check();
    expect(await confirm.isDisabled()).toBe(false);
    await confirm.click();
    // No local stack here: its broker's users cannot be withdrawn, so nothing is reset (labReset.e2e resets).
    await expect
      .poll(() => page.getByTestId('reset-error').textContent())
      .toMatch(/^The broker is not reachable \(.+\): start it with makerdeck stack up; nothing was reset$/);
    expect(await page.getByTestId('reset-error').getAttribute('role')).toBe('alert');
    expect(await rosterRows().count()).toBe(BOARDS);
    expect(await rosterRows().first().getAttribute('data-state')).not.toBe('free'); // the station's seat stays
    await page.getByRole('button', { name: 'Cancel' }).click();
  }, 20_000);
});

describe('the teacher grid on the Telemetry page (real broker: Mosquitto)', () => {
  it(`shows ${BOARDS} boards publishing at 1 Hz live, each chart with its newest point`, async () => {
    await page.getByRole('link', { name: /Telemetry/ }).click();
    await expect
      .poll(() => page.getByTestId('broker-state').getAttribute('data-state'), { timeout: 10_000 })
      .toBe('connected');
    await page.getByLabel('Lab', { exact: true }).selectOption({ label: LAB });
    const cells = page.getByTestId('teacher-grid').locator('li');
    await expect.poll(() => cells.count()).toBe(BOARDS);
    await startFrameRecorder(page);
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    for (let seat = 1; seat <= BOARDS; seat++)
      await client.publishAsync(`makerdeck/${id(seat)}/status`, 'online', { retain: true });
    // The boards' cadence: one reading each per second.
    for (let i = 0; i < TICKS; i++) {
      const started = Date.now();
      for (let seat = 1; seat <= BOARDS; seat++)
        client.publish(`makerdeck/${id(seat)}/telemetry`, `telemetry,device=${id(seat)} temp_c=${reading(seat, i)}`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
    }
    await client.endAsync();
    const last = TICKS - 1;
    for (let seat = 1; seat <= BOARDS; seat++) {
      const cell = page.getByTestId(`grid-${id(seat)}`);
      await expect.poll(() => cell.locator('canvas').getAttribute('data-newest-v')).toBe(String(reading(seat, last)));
      expect(await cell.getAttribute('data-status')).toBe('online');
      expect(await cell.locator('.grid-value').textContent()).toBe(`temp_c ${reading(seat, last).toFixed(2)}`);
      expect(await cell.textContent()).toContain(student(seat));
    }
    const timing = await stopFrameRecorder(page);
    const grid = await page.getByTestId('teacher-grid').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
    const figures = { boards: BOARDS, seconds: TICKS, ...timing, grid };
    console.log(`teacher grid timing: ${JSON.stringify(figures)}`);
    mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
    writeFileSync(
      path.join(repoRoot, 'test-results', 'teacher-grid-timing.json'),
      `${JSON.stringify(figures, null, 2)}\n`,
    );
    expect(timing.frames).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('teacher-grid'), fullPage: true });
  }, 90_000);
});

/** Records every animation frame's interval and every long task from now on, in the page. */
async function startFrameRecorder(target: Page): Promise<void> {
  await target.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __long: number[]; __stop: boolean };
    w.__frames = [];
    w.__long = [];
    w.__stop = false;
    let previous = performance.now();
    const loop = (now: number) => {
      w.__frames.push(now - previous);
      previous = now;
      if (!w.__stop) requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__long.push(entry.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
}

/** The recorded frames and long tasks, summarised (ms). */
async function stopFrameRecorder(target: Page) {
  const { frames, long } = await target.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __long: number[]; __stop: boolean };
    w.__stop = true;
    return { frames: w.__frames.slice(1), long: w.__long };
  });
  const sorted = [...frames].sort((a, b) => a - b);
  const at = (q: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1));
  const total = frames.reduce((sum, ms) => sum + ms, 0);
  return {
    frames: frames.length,
    fps: Number(((frames.length / total) * 1000).toFixed(1)),
    frameMs: { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) },
    over50ms: frames.filter((ms) => ms > 50).length,
    longTasks: {
      count: long.length,
      totalMs: Math.round(long.reduce((s, ms) => s + ms, 0)),
      maxMs: Math.round(Math.max(0, ...long)),
    },
  };
}
