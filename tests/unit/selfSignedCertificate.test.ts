// The per-run certificate of `makerdeck serve --allow-remote`, checked by Node's own X.509 parser and
// by a real TLS handshake that verifies it as a trust anchor (OpenSSL inside Node does the work).
import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../electron/web/selfSignedCertificate';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

describe('the self-signed certificate', () => {
  const names = ['labbox.local', '192.0.2.7', 'localhost', '127.0.0.1', '::1'];
  const identity = selfSignedCertificate(names, 30, new Date('2030-01-01T00:00:00Z'));
  const certificate = new X509Certificate(identity.cert);

  it('names every host and address it was made for, and nothing else', () => {
    expect(certificate.subjectAltName).toBe(
      'DNS:labbox.local, IP Address:192.0.2.7, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(certificate.checkHost('labbox.local')).toBe('labbox.local');
    expect(certificate.checkIP('192.0.2.7')).toBe('192.0.2.7');
    expect(certificate.checkIP('::1')).toBe('::1');
    expect(certificate.checkHost('evil.example')).toBeUndefined();
    expect(certificate.checkIP('192.0.2.8')).toBeUndefined();
  });

  it('is signed by its own key, is no CA, and is valid from a day before for the days asked', () => {
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.ca).toBe(false);
    expect(certificate.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    expect(new Date(certificate.validFrom).toISOString()).toBe('2029-12-31T00:00:00.000Z');
    expect(new Date(certificate.validTo).toISOString()).toBe('2030-01-31T00:00:00.000Z');
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('prints the fingerprints a browser and a pinning client compare', () => {
    expect(identity.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(identity.fingerprint256).toBe(certificate.fingerprint256);
    const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
    expect(identity.spkiSha256).toBe(createHash('sha256').update(spki).digest('base64'));
  });

  it('makes a new key and serial number every run', () => {
    const again = selfSignedCertificate(names);
    expect(again.fingerprint256).not.toBe(identity.fingerprint256);
    expect(new X509Certificate(again.cert).serialNumber).not.toBe(certificate.serialNumber);
  });

  it('passes full verification in a real TLS handshake when trusted, for its names only', async () => {
    const current = selfSignedCertificate(['labbox.local', '127.0.0.1']);
    server = createServer({ key: current.key, cert: current.cert }, (_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const handshake = (servername: string, ca?: string) =>
      new Promise<{ authorized: boolean; error?: string; fingerprint: string }>((resolve) => {
        const socket = tls.connect(
          {
            port,
            host: '127.0.0.1',
            servername,
            ca,
            rejectUnauthorized: false,
            checkServerIdentity: tls.checkServerIdentity,
          },
          () => {
            resolve({
              authorized: socket.authorized,
              error: socket.authorizationError?.toString(),
              fingerprint: socket.getPeerCertificate().fingerprint256,
            });
            socket.end();
          },
        );
        socket.on('error', (error) => resolve({ authorized: false, error: error.message, fingerprint: '' }));
      });
    expect(await handshake('labbox.local', current.cert)).toEqual({
      authorized: true,
      error: undefined,
      fingerprint: current.fingerprint256,
    });
    expect((await handshake('evil.example', current.cert)).authorized).toBe(false);
    expect(await handshake('labbox.local')).toMatchObject({ authorized: false, error: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });
});
