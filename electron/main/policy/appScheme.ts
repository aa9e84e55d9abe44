// The app:// scheme's rules, with no electron import so Node tests can run them: which URLs are the
// app's own page, which file a request maps to, and the headers (strict CSP) every file gets.
import { SECURITY_HEADERS } from '../../web/security';
import { contentType, resolveStaticPath } from '../../web/staticFiles';

export const APP_SCHEME = 'app';
export const APP_HOST = 'makerdeck';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The one page the window loads. */
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

/** True only for URLs on the app's own origin (app://makerdeck). */
export function isAppUrl(url: string | undefined): boolean {
  return parseAppUrl(url) !== undefined;
}

/** The file under rendererDir an app:// request maps to; undefined for another host or a path outside it. */
export function appRequestFile(rendererDir: string, requestUrl: string): string | undefined {
  const url = parseAppUrl(requestUrl);
  return url && resolveStaticPath(rendererDir, url.pathname);
}

// Not `url.origin === APP_ORIGIN`: Node's URL (the one Electron's main process has) gives every
// non-special scheme the origin "null", so that test refused the app's own page. Scheme, host (no
// port) and no user info are compared instead.
function parseAppUrl(text: string | undefined): URL | undefined {
  if (!text) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const own = url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.password === '';
  return own ? url : undefined;
}

/** Headers for a file served on app://: the same security headers as browser mode, and its type. */
export function appResponseHeaders(file: string): Record<string, string> {
  return { ...SECURITY_HEADERS, 'Content-Type': contentType(file) };
}
