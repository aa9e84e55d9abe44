import { describe, expect, it } from 'vitest';
import { isLocalConsole, isLoopbackHost } from '../../electron/web/security';

describe('loopback checks', () => {
  it('accepts only loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.5.6.7', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '192.168.1.2', 'example.com', '127.0.0.1.example.com', '']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('opens only local http consoles outside the app', () => {
    expect(isLocalConsole('http://127.0.0.1:3000/')).toBe(true);
    expect(isLocalConsole('http://[::1]:9000/')).toBe(true);
    for (const url of ['https://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'http://127.0.0.1.evil.com/', 'not a url']) expect(isLocalConsole(url), url).toBe(false);
  });
});
