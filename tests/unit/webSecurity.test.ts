import { describe, expect, it } from 'vitest';
import {
  hostForUrl,
  isAllowedHost,
  isAllowedOrigin,
  isLoopbackHost,
  isWildcardHost,
  sitePolicy,
} from '../../electron/web/security';

describe('loopback checks', () => {
  it('accepts only loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.5.6.7', '::1', '[::1]', 'localhost'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '192.168.1.2', 'example.com', '127.0.0.1.example.com', ''])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('knows the wildcards and brackets IPv6 for URLs', () => {
    for (const host of ['0.0.0.0', '::', '[::]']) expect(isWildcardHost(host), host).toBe(true);
    expect(isWildcardHost('127.0.0.1')).toBe(false);
    expect(hostForUrl('::1')).toBe('[::1]');
    expect(hostForUrl('[::1]')).toBe('[::1]');
    expect(hostForUrl('labbox.local')).toBe('labbox.local');
  });
});

describe('the Host allowlist', () => {
  const local = sitePolicy('http', 8080, '127.0.0.1');

  it('lists the loopback names for a loopback bind, and never a wildcard', () => {
    expect(local.names).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(sitePolicy('http', 8080, '::1').names).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(sitePolicy('http', 8080, '127.0.0.2').names).toContain('127.0.0.2');
    expect(sitePolicy('https', 8443, '0.0.0.0', 'LabBox.Local').names).toEqual([
      'localhost',
      '127.0.0.1',
      '[::1]',
      'labbox.local',
    ]);
    expect(sitePolicy('https', 8443, '::', 'fd00::5').names).toContain('[fd00::5]');
    expect(sitePolicy('https', 8443, '0.0.0.0', '0.0.0.0').names).not.toContain('0.0.0.0');
  });

  it('accepts each loopback name on the bound port', () => {
    for (const host of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST:8080', '[::1]:8080', '[0:0:0:0:0:0:0:1]:8080'])
      expect(isAllowedHost(host, local), host).toBe(true);
  });

  it('refuses other names (DNS rebinding), other ports and anything that is not a plain authority', () => {
    for (const host of [
      undefined,
      '',
      'evil.example',
      'evil.example:8080',
      '127.0.0.1:8081',
      '127.0.0.1',
      '0.0.0.0:8080',
      'localhost.:8080',
      '127.0.0.1.evil.example:8080',
      'evil@127.0.0.1:8080',
      '127.0.0.1:8080/x',
      '127.0.0.1:8080 ',
      'localhost:08080x',
      '[::1',
      '192.0.2.2:8080',
    ]) {
      expect(isAllowedHost(host, local), String(host)).toBe(false);
    }
  });

  it('takes the default port when a Host has none', () => {
    expect(isAllowedHost('localhost', sitePolicy('http', 80, '127.0.0.1'))).toBe(true);
    expect(isAllowedHost('labbox.local', sitePolicy('https', 443, '0.0.0.0', 'labbox.local'))).toBe(true);
    expect(isAllowedHost('labbox.local', sitePolicy('https', 8443, '0.0.0.0', 'labbox.local'))).toBe(false);
  });

  it('accepts the public host only when it was configured', () => {
    const remote = sitePolicy('https', 8443, '0.0.0.0', 'labbox.local');
    expect(isAllowedHost('labbox.local:8443', remote)).toBe(true);
    expect(isAllowedHost('LABBOX.LOCAL:8443', remote)).toBe(true);
    expect(isAllowedHost('192.0.2.2:8443', remote)).toBe(false);
    expect(isAllowedHost('labbox.local:8443', local)).toBe(false);
    expect(isAllowedHost('[fd00::5]:8443', sitePolicy('https', 8443, '::', 'fd00::5'))).toBe(true);
  });
});

describe('the Origin check', () => {
  const local = sitePolicy('http', 8080, '127.0.0.1');
  const remote = sitePolicy('https', 8443, '0.0.0.0', 'labbox.local');

  it('accepts the page as the browser reached it: 127.0.0.1, localhost or [::1] on the port', () => {
    for (const origin of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080'])
      expect(isAllowedOrigin(origin, local), origin).toBe(true);
    for (const origin of ['https://labbox.local:8443', 'https://127.0.0.1:8443'])
      expect(isAllowedOrigin(origin, remote), origin).toBe(true);
  });

  it('refuses other sites, other ports, the other scheme, the wildcard and anything that is not an origin', () => {
    for (const origin of [
      'http://evil.example',
      'null',
      '',
      'http://127.0.0.1:8081',
      'https://127.0.0.1:8080',
      'http://0.0.0.0:8080',
      'http://127.0.0.1:8080/',
      'http://u@127.0.0.1:8080',
      'file://',
      'http://127.0.0.1:8080.evil.example',
    ]) {
      expect(isAllowedOrigin(origin, local), origin).toBe(false);
    }
    for (const origin of [
      'http://labbox.local:8443',
      'https://0.0.0.0:8443',
      'https://labbox.local:8444',
      'https://evil.example:8443',
    ])
      expect(isAllowedOrigin(origin, remote), origin).toBe(false);
  });
});
