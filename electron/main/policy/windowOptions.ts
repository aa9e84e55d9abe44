// The Makerdeck window's options, with no electron import so Node tests can check every hardening
// setting; the shape is the subset of Electron's BrowserWindowConstructorOptions that is used.

export interface WindowOptions {
  width: number;
  height: number;
  title: string;
  show: boolean;
  webPreferences: {
    preload: string;
    contextIsolation: true;
    sandbox: true;
    nodeIntegration: false;
    nodeIntegrationInWorker: false;
    nodeIntegrationInSubFrames: false;
    webSecurity: true;
    allowRunningInsecureContent: false;
    experimentalFeatures: false;
    webviewTag: false;
    navigateOnDragDrop: false;
    devTools: boolean;
    disableBlinkFeatures: string;
  };
}

/**
 * The window's options: isolated, sandboxed, no Node in any frame, and DevTools only in development
 * (a packaged app has none: a console in the app's page could call every contract request).
 */
export function windowOptions({ preload, packaged }: { preload: string; packaged: boolean }): WindowOptions {
  return {
    width: 1200,
    height: 800,
    title: 'Makerdeck',
    show: false,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      // A file dropped on the window must not replace the app's page.
      navigateOnDragDrop: false,
      devTools: !packaged,
      // A middle click must not open links in a new window.
      disableBlinkFeatures: 'Auxclick',
    },
  };
}
