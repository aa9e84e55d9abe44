// The Electron app: one window, the renderer served from the app:// scheme, the contract over IPC.
// Window and wiring only; everything else lives in the core services.
import { app, BrowserWindow, protocol, session } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHost } from '../core/host';
import { registerIpc } from './ipc';
import { APP_ORIGIN, APP_SCHEME, serveAppScheme } from './scheme';
import { hardenContents } from './security';

const here = path.dirname(fileURLToPath(import.meta.url));

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

async function createWindow(): Promise<void> {
  const packaged = app.isPackaged;
  const host = createHost({
    kind: 'electron',
    resourcesDir: packaged ? process.resourcesPath : undefined,
    firmwareDir: packaged ? path.join(process.resourcesPath, 'firmware') : undefined,
    stackDir: packaged ? path.join(process.resourcesPath, 'stack') : undefined,
  });
  await host.loadSecrets();
  serveAppScheme(path.join(here, '..', 'renderer'));
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const window = new BrowserWindow({
    width: 1200,
    height: 800,
    title: 'Makerdeck',
    show: false,
    webPreferences: {
      preload: path.join(here, '..', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      // A middle click must not open links in a new window.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  registerIpc(host, window);
  window.once('ready-to-show', () => window.show());
  await window.loadURL(`${APP_ORIGIN}/index.html`);
}

app.on('web-contents-created', (_event, contents) => hardenContents(contents));
app.on('window-all-closed', () => app.quit());
app.whenReady().then(createWindow, (error: unknown) => {
  console.error(`Makerdeck could not start: ${error instanceof Error ? error.message : String(error)}`);
  app.exit(1);
});
