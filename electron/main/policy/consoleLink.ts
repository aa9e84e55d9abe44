// Which links the app hands to the user's browser (shell.openExternal), with no electron import so
// Node tests can run it: only the local stack's web consoles, exactly as Makerdeck writes their links.
import { STACK_CONSOLES } from '../../core/stack/consoles';

/** The ports stack/compose.yaml publishes the consoles on. */
export const CONSOLE_PORTS: readonly number[] = Object.values(STACK_CONSOLES).map((console) => console.port);
const HOSTS = new Set(['127.0.0.1', 'localhost']);
/** Plain path segments only: no percent-encoding, no empty segment ("//"). */
const PLAIN_PATH = /^(\/[A-Za-z0-9._~-]+)*\/?$/;
const MAX_LENGTH = 2048;

/**
 * True for http://127.0.0.1:PORT/… or http://localhost:PORT/… on a console port, with no user or
 * password, query or fragment, a plain path, and already in canonical form (so the browser reads the
 * same URL this check read). Anything else — another port on loopback (Docker's API, `makerdeck
 * serve`), https, file:, a remote host — is never opened.
 */
export function isConsoleLink(url: string): boolean {
  if (url.length > MAX_LENGTH) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.href === url &&
    parsed.protocol === 'http:' &&
    HOSTS.has(parsed.hostname) &&
    CONSOLE_PORTS.includes(Number(parsed.port)) &&
    parsed.username === '' &&
    parsed.password === '' &&
    !/[?#]/.test(url) &&
    PLAIN_PATH.test(parsed.pathname)
  );
}
