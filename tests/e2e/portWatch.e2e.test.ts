// Plug and unplug on the Firmware page (Chromium, browser mode, real core): the emulated Uno comes
// and goes, and the page's port list follows within a couple of seconds, the board guessed from its
// USB ids. The kernel's view of the USB device is a stand-in: the core reads ports from a copy of
// /sys (MAKERDECK_SYSFS_ROOT) whose ttyACM0 is the emulated Uno's pty and whose USB device says
// 2341:0043 (a genuine Uno); the Monitor page shows the same list, and the board follows the profile.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath } from '../support/browser';
import { runCli } from '../support/cli';
import { startServe, type Served } from '../support/serve';
import { startUno, type EmulatedUno } from '../support/uno';

let scratch: string;
let sysRoot: string;
let served: Served;
let browser: Browser;
let page: Page;
let uno: EmulatedUno | undefined;
const portPath = () => path.join(sysRoot, 'dev', 'ttyACM0');
const detected = () => page.getByTestId('detected-ports').locator('option').allTextContents();

/** The stand-in kernel view of a plugged Uno: a USB device 2341:0043 with a tty whose node is the pty. */
function plugIntoSysfs(ptyDevice: string): void {
  const usb = path.join(sysRoot, 'devices', 'usb1', '1-1');
  mkdirSync(path.join(usb, '1-1:1.0'), { recursive: true });
  writeFileSync(path.join(usb, 'idVendor'), '2341\n');
  writeFileSync(path.join(usb, 'idProduct'), '0043\n');
  writeFileSync(path.join(usb, 'manufacturer'), 'Arduino (www.arduino.cc)\n');
  mkdirSync(path.join(sysRoot, 'class', 'tty', 'ttyACM0'), { recursive: true });
  symlinkSync(path.join(usb, '1-1:1.0'), path.join(sysRoot, 'class', 'tty', 'ttyACM0', 'device'));
  symlinkSync(ptyDevice, portPath());
}

function unplugFromSysfs(): void {
  for (const gone of ['devices', path.join('class', 'tty', 'ttyACM0'), path.join('dev', 'ttyACM0')])
    rmSync(path.join(sysRoot, gone), { recursive: true, force: true });
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-ports-'));
  sysRoot = path.join(scratch, 'sys');
  mkdirSync(path.join(sysRoot, 'class', 'tty'), { recursive: true });
  mkdirSync(path.join(sysRoot, 'dev'));
  const env = { MAKERDECK_DATA_DIR: path.join(scratch, 'data'), MAKERDECK_SYSFS_ROOT: sysRoot };
  for (const [name, board] of [
    ['Desk Uno', 'arduino:avr:uno'],
    ['Desk ESP32', 'esp32:esp32:esp32'],
  ]) {
    const args = ['profile', 'set', name!, '--board', board!, '--ssid', 'lab', '--mqtt-host', '192.0.2.10'];
    const made = await runCli([...args, '--device-id', name!.toLowerCase().replace(' ', '-')], env);
    expect(made.code, made.stderr).toBe(0);
  }
  served = await startServe(env);
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

describe('the Firmware page follows ports and profiles', () => {
  it('picks the board of the chosen profile', async () => {
    await page.getByRole('link', { name: /Firmware/ }).click();
    const profile = page.getByLabel('Profile');
    await profile.selectOption({ label: 'Desk ESP32 (esp32:esp32:esp32)' });
    await expect.poll(() => page.getByLabel('Board').inputValue()).toBe('esp32');
    await profile.selectOption({ label: 'Desk Uno (arduino:avr:uno)' });
    await expect.poll(() => page.getByLabel('Board').inputValue()).toBe('uno');
  });

  it('lists the emulated Uno when it is plugged in, with the board guessed, and drops it when unplugged', async () => {
    expect(await detected()).toEqual(['No ports: plug the board in with a data cable']);
    uno = await startUno(path.join(scratch, 'uno'));
    plugIntoSysfs(uno.device);
    const listed = `${portPath()} — Arduino board (genuine)`;
    await expect.poll(detected, { timeout: 10_000 }).toEqual(['Pick a port…', listed]);
    // Nothing was chosen, so the port plugged in is.
    await expect.poll(() => page.getByLabel('Serial port').inputValue()).toBe(portPath());
    await page.screenshot({ path: screenshotPath('firmware-port-detected'), fullPage: true });
    // The Monitor page shares the list.
    await page.getByRole('link', { name: /Monitor/ }).click();
    await expect.poll(detected, { timeout: 10_000 }).toContain(listed);
    await page.getByRole('link', { name: /Firmware/ }).click();
    await expect.poll(detected, { timeout: 10_000 }).toContain(listed);
    unplugFromSysfs();
    await uno.stop();
    uno = undefined;
    await expect.poll(detected, { timeout: 10_000 }).toEqual(['No ports: plug the board in with a data cable']);
  }, 60_000);

  it('does not choose a port plugged in while the path field has the focus', async () => {
    const field = page.getByLabel('Serial port');
    await field.fill('');
    await field.focus();
    uno = await startUno(path.join(scratch, 'uno-2'));
    plugIntoSysfs(uno.device);
    await expect.poll(detected, { timeout: 10_000 }).toContain(`${portPath()} — Arduino board (genuine)`);
    // Were it chosen now, the path typed next would land after it (/dev/ttyACM0/tmp/…).
    expect(await field.inputValue()).toBe('');
    await field.pressSequentially('/tmp/typed.pty');
    expect(await field.inputValue()).toBe('/tmp/typed.pty');
    unplugFromSysfs();
    await uno.stop();
    uno = undefined;
  }, 60_000);
});
