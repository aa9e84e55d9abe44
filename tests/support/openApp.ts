// Makerdeck in a browser as a user opens it: `makerdeck serve` with the test's environment, and a
// Chromium page on the URL it printed.
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { startServe, type Served } from './serve';

export interface OpenApp {
  served: Served;
  browser: Browser;
  page: Page;
  /** Closes the browser, then stops the server (by the PID started). */
  close(): Promise<void>;
}

/** Starts the server with `env`, opens Chromium at its URL (1200×900, as the screenshots are taken). */
export async function openApp(env: NodeJS.ProcessEnv = {}): Promise<OpenApp> {
  const served = await startServe(env);
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(served.url);
  return {
    served,
    browser,
    page,
    close: async () => {
      await browser.close();
      await served.stop();
    },
  };
}
