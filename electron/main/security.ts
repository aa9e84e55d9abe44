// Navigation and window rules for every web contents the app creates; the decisions themselves are
// in policy/ (isAppUrl, isConsoleLink), under test in Node.
import { shell, type WebContents } from 'electron';
import { isAppUrl } from './policy/appScheme';
import { isConsoleLink } from './policy/consoleLink';

/** Keeps contents on app://makerdeck: no navigation, redirect, webview or window elsewhere. */
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
    if (isConsoleLink(url)) {
      shell
        .openExternal(url)
        .catch((error: Error) => console.error(`Makerdeck could not open ${url}: ${error.message}`));
    }
    return { action: 'deny' };
  });
}
