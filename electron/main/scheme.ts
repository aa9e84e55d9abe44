// app://makerdeck/ serves the built renderer from disk with the strict CSP; nothing else is reachable.
// The rules (which file, which headers) are in policy/appScheme.ts, under test in Node.
import { net, protocol } from 'electron';
import { pathToFileURL } from 'node:url';
import { APP_SCHEME, appRequestFile, appResponseHeaders } from './policy/appScheme';

/** Answers app:// requests from rendererDir; 404 for anything outside it or on another host. */
export function serveAppScheme(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = appRequestFile(rendererDir, request.url);
    if (!file) return new Response('Not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).href);
    if (!response.ok) return new Response('Not found', { status: 404 });
    return new Response(response.body, { headers: appResponseHeaders(file) });
  });
}
