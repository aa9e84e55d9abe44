// Navigation and window rules for every web contents the app creates.
import { shell, type WebContents } from 'electron';
import { isLocalConsole } from '../web/security';
import { isAppUrl } from './scheme';

export function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // The stack's own consoles (Grafana, Portainer, …) open in the user's browser; nothing else opens.
  contents.setWindowOpenHandler(({ url }) => {
    if (isLocalConsole(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

