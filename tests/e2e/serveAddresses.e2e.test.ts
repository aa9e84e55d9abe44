// Browser mode as Chromium reaches it by every name it promises: localhost against a 127.0.0.1 bind,
// [::1], and remote mode over HTTPS, where Chromium trusts only the certificate whose public key
// serve printed (--ignore-certificate-errors-spki-list: the pin) and refuses it otherwise.
import type { Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath } from '../support/browser';
import { startServe, type Served } from '../support/serve';

let served: Served | undefined;
let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  if (served) expect(await served.stop()).toBe(0);
  [served, browser] = [undefined, undefined];
});

/** Opens `url` and waits for the home page to show app.info, which arrives over the WebSocket. */
async function opensApp(url: string, screenshot?: string): Promise<void> {
  const page = await browser!.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(url);
  await expect
    .poll(() => page.getByTestId('app-info').textContent(), { timeout: 15_000 })
    .toMatch(/Makerdeck .* browser mode/);
  expect(page.url()).not.toContain('token=');
  if (screenshot) await page.screenshot({ path: screenshotPath(screenshot), fullPage: true });
}

describe('browser mode by every name it answers to', () => {
  it('opens at localhost when bound to 127.0.0.1', async () => {
    served = await startServe();
    browser = await launchChromium();
    await opensApp(served.url.replace('127.0.0.1', 'localhost'));
  }, 60_000);

  it('opens at [::1] with --host ::1', async () => {
    served = await startServe({}, ['--host', '::1']);
    browser = await launchChromium();
    await opensApp(served.url);
  }, 60_000);

  it('opens the printed https URL in remote mode when the pinned certificate is presented', async () => {
    served = await startServe({}, ['--allow-remote', '--public-host', 'makerdeck.test']);
    const resolve = '--host-resolver-rules=MAP makerdeck.test 127.0.0.1';
    browser = await launchChromium([resolve, `--ignore-certificate-errors-spki-list=${served.info.spkiSha256}`]);
    await opensApp(served.url, 'serve-remote');
  }, 60_000);

  it('stops at the certificate warning in remote mode without the pin', async () => {
    served = await startServe({}, ['--allow-remote', '--public-host', 'makerdeck.test']);
    browser = await launchChromium(['--host-resolver-rules=MAP makerdeck.test 127.0.0.1']);
    const page = await browser.newPage();
    await expect(page.goto(served.url)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
  }, 60_000);
});
