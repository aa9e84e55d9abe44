// Headers and checks shared by every page Makerdeck serves (browser mode and the Electron app).

/** The renderer's Content-Security-Policy: only its own scripts and styles, no eval, no remote content. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|::1|localhost)$/i;

/** Whether a host name or address (IPv6 with or without brackets) is loopback. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host.replace(/^\[|\]$/g, ''));
}

/** Addresses that mean "every interface": never a name a browser may use. */
export function isWildcardHost(host: string): boolean {
  return ['0.0.0.0', '::', '[::]'].includes(host);
}

/** What `makerdeck serve` answers to: the scheme and port it listens on and the names that reach it. */
export interface SitePolicy {
  scheme: 'http' | 'https';
  port: number;
  /** Host names and addresses as a URL's hostname spells them (lower case, IPv6 in brackets). */
  names: string[];
}

/**
 * The names a browser may use: the loopback names (localhost, 127.0.0.1, [::1]), a loopback bind
 * address, and the public host when remote access is on. The bind wildcard is never one of them.
 */
export function sitePolicy(scheme: SitePolicy['scheme'], port: number, bind: string, publicHost?: string): SitePolicy {
  const names = ['localhost', '127.0.0.1', '[::1]'];
  for (const name of [isLoopbackHost(bind) ? bind : undefined, publicHost]) {
    if (name === undefined || isWildcardHost(name)) continue;
    const hostname = parseAuthority(scheme, hostForUrl(name))?.hostname;
    if (hostname && !names.includes(hostname)) names.push(hostname);
  }
  return { scheme, port, names };
}

/** A host name or address as it goes in a URL: IPv6 in brackets. */
export function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Whether a Host header names this server: an allowed name and our port (DNS rebinding stops here). */
export function isAllowedHost(header: string | undefined, policy: SitePolicy): boolean {
  if (header === undefined) return false;
  const authority = parseAuthority(policy.scheme, header);
  return authority !== undefined && policy.names.includes(authority.hostname) && authority.port === policy.port;
}

/** Whether an Origin header is this server's own page, as the browser reached it. */
export function isAllowedOrigin(origin: string, policy: SitePolicy): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // An Origin is exactly scheme://host[:port]: anything more (a path, user info) is not one.
  if (url.origin !== origin || url.protocol !== `${policy.scheme}:`) return false;
  return isAllowedHost(url.host, policy);
}

interface Authority {
  hostname: string;
  port: number;
}

/** Splits "name[:port]" or "[v6][:port]" into a normalised hostname and port; undefined when malformed. */
function parseAuthority(scheme: SitePolicy['scheme'], authority: string): Authority | undefined {
  // Only host characters: no user info, path or spaces for the URL parser to be lenient about.
  if (!/^[A-Za-z0-9.\-:[\]]{1,300}$/.test(authority)) return undefined;
  try {
    const url = new URL(`${scheme}://${authority}`);
    return { hostname: url.hostname, port: Number(url.port || (scheme === 'https' ? 443 : 80)) };
  } catch {
    return undefined;
  }
}
