// Reaching `makerdeck serve` by other names: IPv6 loopback, and remote mode (--allow-remote), which
// speaks only HTTPS with a certificate made for the run. The clients here pin its printed
// fingerprint before they send anything, as a careful user compares it in the browser.
import { once } from 'node:events';
import http from 'node:http';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerFrame } from '../../electron/contract';
import { runCli } from '../support/cli';
import { rawConnect, upgradeRequest } from '../support/rawWebSocket';
import { startServe, type Served } from '../support/serve';
import { until } from '../support/wait';

const PUBLIC = 'makerdeck.test';

/** app.info over a WebSocket, on a socket the caller opened (and, for TLS, pinned). */
async function appInfo(url: string, origin: string, createConnection?: () => tls.TLSSocket): Promise<unknown> {
  const ws = new WebSocket(url, { origin, ...(createConnection ? { createConnection } : {}) });
  ws.on('error', () => undefined);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'call', id: 1, name: 'app.info', args: {} }));
    const [data] = (await once(ws, 'message')) as [Buffer];
    const frame = JSON.parse(String(data)) as ServerFrame;
    return frame.type === 'reply' ? frame.reply : frame;
  } finally {
    ws.terminate();
  }
}

/** A TLS connection to 127.0.0.1 that goes on only if the certificate is the one serve printed. */
async function pinned(port: number, fingerprint256: string): Promise<tls.TLSSocket> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: PUBLIC, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const presented = socket.getPeerCertificate().fingerprint256;
  if (presented !== fingerprint256) {
    socket.destroy();
    throw new Error(`the certificate is ${presented}, not the printed ${fingerprint256}`);
  }
  return socket;
}

describe('on IPv6 loopback', () => {
  for (const host of ['::1', '[::1]']) {
    it(`binds --host ${host}, prints a URL a browser opens, and serves the page at [::1] and localhost`, async () => {
      const served = await startServe({}, ['--host', host]);
      try {
        expect(served.url).toMatch(/^http:\/\/\[::1\]:\d+\/#token=[\w-]{32}$/);
        const url = `ws://[::1]:${served.port}/ws?token=${served.token}`;
        expect(await appInfo(url, `http://[::1]:${served.port}`)).toMatchObject({
          ok: true,
          value: { name: 'Makerdeck' },
        });
        expect(await appInfo(url, `http://localhost:${served.port}`)).toMatchObject({ ok: true });
        await expect(appInfo(url, 'http://0.0.0.0:' + served.port)).rejects.toThrow('HTTP 403');
        const page = await fetch(`http://[::1]:${served.port}/`);
        expect(page.status).toBe(200);
      } finally {
        expect(await served.stop()).toBe(0);
      }
    });
  }
});

describe('set-ups serve refuses before it listens', () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['--host', '0.0.0.0'],
      /not a loopback address: add --allow-remote .* or reach it over SSH: ssh -L PORT:127\.0\.0\.1:PORT/,
    ],
    [
      ['--host', '0.0.0.0', '--allow-remote'],
      /Name the address other machines use to reach this one: --public-host NAME \(this machine's addresses: /,
    ],
    [
      ['--allow-remote', '--public-host', '0.0.0.0'],
      /--public-host "0\.0\.0\.0" is not a name or address a browser can open/,
    ],
    [['--public-host', PUBLIC], /--public-host is for --allow-remote/],
    [['--host', 'example.com'], /--host "example\.com" is not an IP address/],
    [['--allow-remote', '--public-host', 'evil.example/x'], /is not a name or address a browser can open/],
  ];
  for (const [args, message] of cases) {
    it(`refuses ${args.join(' ')} in one line`, async () => {
      const result = await runCli(['serve', '--json', ...args]);
      expect(result.code).toBe(2);
      const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string } };
      expect(error.code).toBe('BAD_INPUT');
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
    });
  }
});

describe('remote mode: --allow-remote --public-host makerdeck.test', () => {
  let served: Served;
  let pin: string;
  beforeAll(async () => {
    served = await startServe({}, ['--allow-remote', '--public-host', PUBLIC]);
    pin = served.info.fingerprint256!;
  });
  afterAll(async () => {
    expect(await served.stop()).toBe(0);
  });

  it('prints an https URL under the public name, the certificate fingerprint and the SPKI pin', () => {
    expect(served.url).toMatch(/^https:\/\/makerdeck\.test:\d+\/#token=[\w-]{32}$/);
    expect(served.info).toMatchObject({
      scheme: 'https',
      fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
      spkiSha256: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
    });
  });

  it('lets a client that pins the fingerprint use the API under the public name', async () => {
    const socket = await pinned(served.port, pin);
    expect(socket.getPeerCertificate().subjectaltname).toContain(`DNS:${PUBLIC}`);
    const reply = await appInfo(
      `wss://${PUBLIC}:${served.port}/ws?token=${served.token}`,
      `https://${PUBLIC}:${served.port}`,
      () => socket,
    );
    expect(reply).toMatchObject({ ok: true, value: { name: 'Makerdeck', host: 'cli' } });
  });

  it('verifies as a trust anchor for its names, so a browser that trusts it sees no other fault', async () => {
    const first = await pinned(served.port, pin);
    const der = first.getPeerCertificate().raw.toString('base64');
    const pem = `-----BEGIN CERTIFICATE-----\n${der}\n-----END CERTIFICATE-----\n`;
    first.destroy();
    const verified = tls.connect({ host: '127.0.0.1', port: served.port, servername: PUBLIC, ca: pem });
    await once(verified, 'secureConnect');
    expect(verified.authorized).toBe(true);
    verified.destroy();
  });

  it('checks Host and Origin against the public name and loopback, never the wildcard', async () => {
    const status = async (request: string) => {
      const raw = await rawConnect({ port: served.port, tls: true });
      expect((raw.socket as tls.TLSSocket).getPeerCertificate().fingerprint256).toBe(pin);
      raw.socket.write(request);
      await until('an answer', () => raw.status() !== undefined || raw.ended(), 5000);
      raw.socket.destroy();
      return raw.status();
    };
    const get = (host: string) => status(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const port = served.port;
    expect(await get(`${PUBLIC}:${port}`)).toBe(200);
    expect(await get(`127.0.0.1:${port}`)).toBe(200);
    for (const host of ['192.0.2.2:' + port, `0.0.0.0:${port}`, `evil.example:${port}`, PUBLIC])
      expect(await get(host), host).toBe(421);
    const upgrade = (origin: string) =>
      status(upgradeRequest({ port, token: served.token, host: `${PUBLIC}:${port}`, origin }));
    expect(await upgrade(`https://${PUBLIC}:${port}`)).toBe(101);
    expect(await upgrade(`https://localhost:${port}`)).toBe(101);
    for (const origin of [`http://${PUBLIC}:${port}`, `https://0.0.0.0:${port}`, `https://evil.example:${port}`])
      expect(await upgrade(origin), origin).toBe(403);
  });

  it('never answers plain HTTP (no token in the clear), and cuts off handshakes that stall or reset', async () => {
    const plain = await new Promise<string>((resolve) => {
      const request = http.get(
        { host: '127.0.0.1', port: served.port, path: '/', headers: { host: `${PUBLIC}:${served.port}` } },
        (response) => resolve(`HTTP ${response.statusCode}`),
      );
      request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(plain).toMatch(/^(ECONNRESET|HPE_|socket hang up)/);
    const silent = await rawConnect({ port: served.port });
    const started = Date.now();
    for (let round = 0; round < 20; round += 1) {
      const reset = await rawConnect({ port: served.port });
      // A ClientHello's first bytes, then a reset.
      reset.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
      reset.socket.resetAndDestroy();
    }
    await until('the stalled handshake to be cut off', () => silent.ended(), 20_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    const socket = await pinned(served.port, pin);
    expect(
      await appInfo(
        `wss://${PUBLIC}:${served.port}/ws?token=${served.token}`,
        `https://${PUBLIC}:${served.port}`,
        () => socket,
      ),
    ).toMatchObject({ ok: true });
    expect(served.child.exitCode).toBeNull();
  }, 30_000);
});
