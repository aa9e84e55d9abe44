// app://makerdeck/ serves the built renderer from disk with the strict CSP; nothing else is reachable.
import { net, protocol } from 'electron';
import { pathToFileURL } from 'node:url';
import { SECURITY_HEADERS } from '../web/security';
import { contentType, resolveStaticPath } from '../web/staticFiles';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://makerdeck`;

export function serveAppScheme(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === 'makerdeck' ? resolveStaticPath(rendererDir, url.pathname) : undefined;
    if (!file) return new Response('Not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).href);
    if (!response.ok) return new Response('Not found', { status: 404 });
    return new Response(response.body, { headers: { ...SECURITY_HEADERS, 'Content-Type': contentType(file) } });
  });
}

/** True only for frames showing the app's own page. */
export function isAppUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    return new URL(url).origin === APP_ORIGIN;
  } catch {
    return false;
  }
}
