// The Electron app's security decisions (electron/main/policy/), run in plain Node: the Electron binary
// cannot run here, and these modules import nothing from electron, so this is the code the app runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { STACK_CONSOLES } from '../../electron/core/stack/consoles';
import { APP_PAGE_URL, appRequestFile, appResponseHeaders, isAppUrl } from '../../electron/main/policy/appScheme';
import { CONSOLE_PORTS, isConsoleLink } from '../../electron/main/policy/consoleLink';
import { isTrustedSender } from '../../electron/main/policy/trustedSender';
import { windowOptions } from '../../electron/main/policy/windowOptions';
import { CONTENT_SECURITY_POLICY } from '../../electron/web/security';
import { repoRoot } from '../support/env';

describe('app:// URLs', () => {
  it("accepts the app's own page — the check Node's URL origin ('null' for app:) got wrong", () => {
    for (const url of [
      APP_PAGE_URL,
      'app://makerdeck/',
      'app://makerdeck/assets/index.js',
      'app://makerdeck/index.html#/stack',
    ]) {
      expect(isAppUrl(url), url).toBe(true);
    }
  });

  it('refuses every other origin, user info, port or scheme', () => {
    const others = [
      'app://makerdeck.evil/',
      'app://evil/',
      'app://makerdeck@evil/',
      'app://user:pw@makerdeck/',
      'app://makerdeck:80/',
      'app://MAKERDECK/',
      'apps://makerdeck/',
      'http://makerdeck/',
      'file:///index.html',
      'about:blank',
      'javascript:1',
      'https://example.com/',
      '',
      'not a url',
      undefined,
    ];
    for (const url of others) expect(isAppUrl(url), String(url)).toBe(false);
  });

  it('maps requests to files inside the renderer folder only', () => {
    const dir = '/opt/makerdeck/renderer';
    expect(appRequestFile(dir, 'app://makerdeck/index.html')).toBe(`${dir}/index.html`);
    expect(appRequestFile(dir, 'app://makerdeck/assets/a.js?x=1')).toBe(`${dir}/assets/a.js`);
    for (const url of [
      'app://makerdeck/../../etc/passwd',
      'app://makerdeck/%2e%2e/%2e%2e/etc/passwd',
      'app://makerdeck/a%00.js',
    ]) {
      const file = appRequestFile(dir, url);
      expect(file === undefined || file.startsWith(`${dir}/`), `${url} -> ${file}`).toBe(true);
    }
    expect(appRequestFile(dir, 'app://makerdeck/a%00.js')).toBeUndefined();
    expect(appRequestFile(dir, 'app://other/index.html')).toBeUndefined();
    expect(appRequestFile(dir, 'app://makerdeck@other/index.html')).toBeUndefined();
  });

  it('serves every file with the strict CSP and the other security headers', () => {
    expect(appResponseHeaders('/x/index.html')).toEqual({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Content-Type': 'text/html; charset=utf-8',
    });
    expect(appResponseHeaders('/x/a.js')['Content-Type']).toBe('text/javascript; charset=utf-8');
  });
});

describe('the Content-Security-Policy', () => {
  const directives = (policy: string) =>
    new Map(
      policy
        .split(';')
        .map((part) => part.trim().split(/\s+/))
        .map(([name, ...values]) => [name!, values]),
    );

  it('allows only the app itself: no inline or eval script, no remote source, nothing embeddable', () => {
    const csp = directives(CONTENT_SECURITY_POLICY);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    for (const [name, values] of csp) {
      for (const value of values) expect(value, name).toMatch(/^('self'|'none'|data:|blob:)$/);
    }
    expect(csp.get('script-src')).not.toContain('blob:');
  });

  it("matches renderer/index.html's meta policy (which cannot carry frame-ancestors)", () => {
    const html = readFileSync(path.join(repoRoot, 'renderer', 'index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const header = directives(CONTENT_SECURITY_POLICY);
    header.delete('frame-ancestors');
    expect(directives(meta!)).toEqual(header);
  });
});

describe('IPC senders', () => {
  const contents = { id: 1 };
  const event = (sender: unknown, frame: { parent: unknown; url: string } | null) => ({ sender, senderFrame: frame });

  it("answers the window's own top frame showing the app page", () => {
    expect(isTrustedSender(event(contents, { parent: null, url: APP_PAGE_URL }), contents)).toBe(true);
  });

  it('refuses another web contents, a sub-frame, a page navigated elsewhere, or a gone frame', () => {
    expect(isTrustedSender(event({ id: 2 }, { parent: null, url: APP_PAGE_URL }), contents)).toBe(false);
    expect(isTrustedSender(event(contents, { parent: { url: APP_PAGE_URL }, url: APP_PAGE_URL }), contents)).toBe(
      false,
    );
    expect(isTrustedSender(event(contents, { parent: null, url: 'https://example.com/' }), contents)).toBe(false);
    expect(isTrustedSender(event(contents, { parent: null, url: 'app://makerdeck@evil/' }), contents)).toBe(false);
    expect(isTrustedSender(event(contents, null), contents)).toBe(false);
  });
});

describe('the window options', () => {
  const hardened = {
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    disableBlinkFeatures: 'Auxclick',
  };

  it('turns DevTools off in a packaged app and keeps every hardening setting', () => {
    const packaged = windowOptions({ preload: '/app/out/preload/index.cjs', packaged: true });
    expect(packaged.webPreferences).toEqual({ ...hardened, preload: '/app/out/preload/index.cjs', devTools: false });
    expect(packaged.show).toBe(false);
  });

  it('keeps DevTools for development only, nothing else changes', () => {
    const development = windowOptions({ preload: '/p.cjs', packaged: false });
    expect(development.webPreferences).toEqual({ ...hardened, preload: '/p.cjs', devTools: true });
  });
});

describe('links opened in the browser (shell.openExternal)', () => {
  it('allows exactly the console ports stack/compose.yaml publishes on 127.0.0.1', () => {
    const compose = parse(readFileSync(path.join(repoRoot, 'stack', 'compose.yaml'), 'utf8')) as {
      services: Record<string, { ports?: string[] }>;
    };
    for (const [service, { port }] of Object.entries(STACK_CONSOLES)) {
      expect(compose.services[service]?.ports, service).toContain(`127.0.0.1:${port}:${port}`);
    }
    expect([...CONSOLE_PORTS].sort((a, b) => a - b)).toEqual([3000, 8888, 9000, 15672]);
  });

  it('opens the links the Stack page shows', () => {
    for (const port of CONSOLE_PORTS) {
      expect(isConsoleLink(`http://127.0.0.1:${port}/`), String(port)).toBe(true);
      expect(isConsoleLink(`http://localhost:${port}/`), String(port)).toBe(true);
    }
    expect(isConsoleLink('http://127.0.0.1:3000/dashboards')).toBe(true);
    expect(isConsoleLink('http://127.0.0.1:3000/d/abc-1/my_board')).toBe(true);
  });

  it('refuses other loopback ports, other hosts and schemes, credentials, queries and odd forms', () => {
    const refused = [
      'http://127.0.0.1:2375/containers/json', // Docker's API
      'http://127.0.0.1:8086/query', // InfluxDB (not a console)
      'http://127.0.0.1:1883/',
      'http://127.0.0.1/',
      'http://127.0.0.1:80/',
      'http://127.0.0.1:30000/',
      'https://127.0.0.1:3000/',
      'http://[::1]:3000/',
      'http://127.0.0.2:3000/',
      'http://0.0.0.0:3000/',
      'http://192.168.1.2:3000/',
      'http://example.com:3000/',
      'http://127.0.0.1.example.com:3000/',
      'http://admin:admin@127.0.0.1:3000/',
      'http://admin@127.0.0.1:3000/',
      'http://127.0.0.1:3000/?next=https://evil.example',
      'http://127.0.0.1:3000/#x',
      'http://127.0.0.1:3000/?',
      'http://127.0.0.1:3000/%2e%2e/x',
      'http://127.0.0.1:3000//evil.example/',
      'http://127.0.0.1:3000/a b',
      'http://127.1:3000/',
      'http://LOCALHOST:3000/',
      'http://127.0.0.1:3000',
      'http://127.0.0.1:03000/',
      'HTTP://127.0.0.1:3000/',
      ' http://127.0.0.1:3000/',
      'http://127.0.0.1:3000/\n',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'app://makerdeck/',
      'smb://127.0.0.1:3000/',
      'not a url',
      '',
      `http://127.0.0.1:3000/${'a'.repeat(3000)}`,
    ];
    for (const url of refused) expect(isConsoleLink(url), JSON.stringify(url)).toBe(false);
  });
});
