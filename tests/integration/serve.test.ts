// Browser mode as a browser meets it: HTTP for the renderer, a token-guarded WebSocket for the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MakerdeckError, WS_MAX_FRAME_BYTES, type DoctorCheck, type DoctorReport } from '../../electron/contract';
import type { ServerFrame } from '../../electron/contract';
import { uploadFirmware, type ContractCall } from '../../electron/contract/firmwareUpload';
import { fakeEsp32Merged } from '../rig/esp/testImages';
import { startServe, type Served } from '../support/serve';

let served: Served;
beforeAll(async () => {
  served = await startServe();
});
afterAll(async () => {
  expect(await served.stop()).toBe(0); // stops cleanly on SIGTERM
});

function connect(query: string, origin?: string): Promise<WebSocket> {
  const ws = new WebSocket(`${served.origin.replace('http', 'ws')}/ws${query}`, origin ? { origin } : {});
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function collect(ws: WebSocket): ServerFrame[] {
  const frames: ServerFrame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as ServerFrame));
  return frames;
}

async function until<T>(get: () => T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('makerdeck serve', () => {
  it('listens on 127.0.0.1 and puts the token in the URL fragment', () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{32}$/);
  });

  it('serves the built renderer with a strict CSP', async () => {
    const response = await fetch(served.origin + '/');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<div id="root">');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
  });

  it('never serves files outside the renderer folder', async () => {
    for (const probe of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2f..%2fpackage.json',
      '/assets/../../main/cli.js',
    ]) {
      const response = await fetch(served.origin + probe);
      expect(await response.text(), probe).not.toContain('"name": "makerdeck"');
      expect(await response.text().catch(() => ''), probe).not.toContain('runCli');
    }
  });

  it('refuses a WebSocket without the token, with a wrong token, or from another origin', async () => {
    await expect(connect('')).rejects.toThrow('HTTP 401');
    await expect(connect('?token=wrong')).rejects.toThrow('HTTP 401');
    await expect(connect(`?token=${served.token}`, 'http://evil.example')).rejects.toThrow('HTTP 403');
  });

  it('answers contract requests and streams events to a client with the token', async () => {
    const ws = await connect(`?token=${served.token}`, served.origin);
    const frames = collect(ws);
    ws.send(JSON.stringify({ type: 'call', id: 1, name: 'app.info', args: {} }));
    ws.send(JSON.stringify({ type: 'call', id: 2, name: 'doctor.run', args: { only: ['disk', 'serial-ports'] } }));
    ws.send(JSON.stringify({ type: 'call', id: 3, name: 'fs.readFile', args: {} }));
    const reply = (id: number) =>
      frames.find((f): f is Extract<ServerFrame, { type: 'reply' }> => f.type === 'reply' && f.id === id)?.reply;
    expect(await until(() => reply(1))).toMatchObject({ ok: true, value: { name: 'Makerdeck', host: 'cli' } });
    const doctor = await until(() => reply(2));
    expect(doctor.ok).toBe(true);
    expect((doctor as { value: DoctorReport }).value.checks.map((c) => c.id).sort()).toEqual(['disk', 'serial-ports']);
    const events = frames
      .filter((f) => f.type === 'event' && f.name === 'doctor.check')
      .map((f) => (f as { payload: DoctorCheck }).payload.id);
    expect(events.sort()).toEqual(['disk', 'serial-ports']);
    expect(await until(() => reply(3))).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_METHOD', message: expect.any(String) },
    });
    ws.close();
  });

  it('takes an 800 KiB firmware file in chunks, each frame far under the limit, ready for one flash', async () => {
    const ws = await connect(`?token=${served.token}`, served.origin);
    const frames = collect(ws);
    const sizes: number[] = [];
    let nextId = 100;
    const call = (async (name: string, args: unknown) => {
      const id = nextId++;
      const text = JSON.stringify({ type: 'call', id, name, args });
      sizes.push(Buffer.byteLength(text));
      ws.send(text);
      type ReplyFrame = Extract<ServerFrame, { type: 'reply' }>;
      const isReply = (f: ServerFrame): f is ReplyFrame => f.type === 'reply' && f.id === id;
      const reply = await until(() => frames.find(isReply)?.reply);
      if (!reply.ok) throw MakerdeckError.fromWire(reply.error);
      return reply.value;
    }) as ContractCall;
    const image = fakeEsp32Merged(800 * 1024);
    const progress: number[] = [];
    const upload = await uploadFirmware(call, 'app.bin', image, (received) => progress.push(received));
    const sha256 = expect.stringMatching(/^[0-9a-f]{64}$/);
    expect(upload).toMatchObject({ fileName: 'app.bin', bytes: image.length, received: image.length, sha256 });
    expect(progress.at(-1)).toBe(image.length);
    expect(Math.max(...sizes)).toBeLessThan(WS_MAX_FRAME_BYTES / 3);
    // The file reached the flasher: a missing port is the next thing it stops at; the upload is then used up.
    const port = '/dev/makerdeck-no-such-port';
    const flash = { port, board: 'esp32' as const, source: { uploadId: upload.uploadId } };
    await expect(call('firmware.flash', flash)).rejects.toThrow(/does not exist/);
    await expect(call('firmware.flash', flash)).rejects.toThrow(/^No firmware upload/);
    ws.close();
  });

  it('closes a connection that sends a frame over the limit (1009), as a whole file in one request would', async () => {
    const ws = await connect(`?token=${served.token}`, served.origin);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const contentBase64 = Buffer.from(fakeEsp32Merged(800 * 1024)).toString('base64');
    const args = { port: '/dev/x', board: 'esp32', source: { fileName: 'app.bin', contentBase64 } };
    ws.send(JSON.stringify({ type: 'call', id: 1, name: 'firmware.flash', args }));
    expect(await closed).toBe(1009);
  });

  it('closes a connection that sends something other than a call frame', async () => {
    const ws = await connect(`?token=${served.token}`, served.origin);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('not json');
    expect(await closed).toBe(1003);
  });
});
