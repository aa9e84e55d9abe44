// Hostile clients against the real `makerdeck serve` process, on raw sockets: malformed WebSocket
// frames, resets before and after the upgrade, slowloris, wrong Host and Origin. After every case
// the process must still be running and answer a good client; a crash shows as its exit.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LogLine, ServerFrame } from '../../electron/contract';
import { closePayload, frame, rawConnect, trickle, upgradeRequest, type RawConnection } from '../support/rawWebSocket';
import { repoRoot } from '../support/env';
import { startServe, type Served } from '../support/serve';
import { hungSocket } from '../support/sockets';
import { until } from '../support/wait';

let served: Served;
let hung: Awaited<ReturnType<typeof hungSocket>>;
let listener: WebSocket;
const logs: LogLine[] = [];
const tally = { frames: 0, resets: 0, slow: 0, hosts: 0, origins: 0, floods: 0, aliveChecks: 0 };

beforeAll(async () => {
  // A Docker daemon that never answers makes doctor.run's docker check take its full 2.5 s timeout:
  // the slow request the flood test needs.
  hung = await hungSocket();
  served = await startServe({ DOCKER_HOST: `unix://${hung.path}` });
  // A well-behaved page that stays connected throughout and records what serve logs.
  listener = new WebSocket(`ws://127.0.0.1:${served.port}/ws?token=${served.token}`, { origin: served.origin });
  listener.on('message', (data) => {
    const parsed = JSON.parse(String(data)) as ServerFrame;
    if (parsed.type === 'event' && parsed.name === 'log') logs.push(parsed.payload as LogLine);
  });
  await new Promise((resolve, reject) => listener.once('open', resolve).once('error', reject));
});

afterAll(async () => {
  const total = tally.frames + tally.resets + tally.slow + tally.hosts + tally.origins + tally.floods;
  console.log(
    `serve-raw-frames: malformed frames ${tally.frames}, resets ${tally.resets}, slow clients ${tally.slow}, ` +
      `Host ${tally.hosts}, ` +
      `Origin ${tally.origins}, flood ${tally.floods}: ${total} cases, ${tally.aliveChecks} alive checks, crashes 0`,
  );
  listener?.terminate();
  expect(await served.stop()).toBe(0);
  await hung?.close();
});

/** The process still runs and a good client gets app.info answered. */
async function expectAlive(): Promise<void> {
  expect(served.child.exitCode, `serve exited; stderr: ${served.stderr()}`).toBeNull();
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/ws?token=${served.token}`, { origin: served.origin });
  ws.on('error', () => undefined);
  const reply = await new Promise<ServerFrame>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer from serve within 5 s')), 5000);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'call', id: 1, name: 'app.info', args: {} })));
    ws.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as ServerFrame;
      if (parsed.type !== 'reply') return;
      clearTimeout(timer);
      resolve(parsed);
    });
    ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
  ws.terminate();
  expect(reply).toMatchObject({ type: 'reply', id: 1, reply: { ok: true, value: { name: 'Makerdeck' } } });
  tally.aliveChecks += 1;
}

async function upgraded(): Promise<RawConnection> {
  const raw = await rawConnect({ port: served.port });
  raw.socket.write(upgradeRequest({ port: served.port, token: served.token, origin: served.origin }));
  await until('the 101 answer', () => raw.status() !== undefined, 5000);
  expect(raw.status()).toBe(101);
  return raw;
}

/** Sends `bytes` after a good upgrade and expects the server to close with `code`. */
async function badFrame(bytes: Buffer | Buffer[], code: number): Promise<void> {
  const raw = await upgraded();
  for (const chunk of [bytes].flat()) raw.socket.write(chunk);
  await until(`close code ${code}`, () => raw.closeCode() !== undefined || raw.ended(), 5000);
  expect(raw.closeCode()).toBe(code);
  raw.socket.destroy();
  tally.frames += 1;
}

const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;
const PING = 0x9;
const call = (id: number) => JSON.stringify({ type: 'call', id, name: 'app.info', args: {} });

describe('malformed WebSocket frames end that connection only', () => {
  it('over-long frames: declared past the 1 MiB limit, and past 2^53', async () => {
    await badFrame(frame({ opcode: TEXT, declaredLength: 1024n * 1024n + 1n, payload: 'x'.repeat(100) }), 1009);
    await badFrame(frame({ opcode: BINARY, declaredLength: 2n ** 63n - 1n }), 1009);
    await badFrame(
      [
        frame({ opcode: TEXT, fin: false, payload: Buffer.alloc(700 * 1024, 0x20) }),
        frame({ opcode: 0, payload: Buffer.alloc(400 * 1024, 0x20) }),
      ],
      1009,
    );
    await expectAlive();
  });

  it('invalid UTF-8 in a text frame, across fragments, and in a close reason', async () => {
    await badFrame(frame({ opcode: TEXT, payload: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) }), 1007);
    await badFrame(frame({ opcode: TEXT, payload: Buffer.from([0xed, 0xa0, 0x80]) }), 1007); // a UTF-16 surrogate
    await badFrame(
      [
        frame({ opcode: TEXT, fin: false, payload: Buffer.from([0x22, 0xe2, 0x82]) }),
        frame({ opcode: 0, payload: Buffer.from([0x28, 0x22]) }),
      ],
      1007,
    );
    await badFrame(frame({ opcode: CLOSE, payload: closePayload(1000, Buffer.from([0xff, 0xfe])) }), 1007);
    await expectAlive();
  });

  it('reserved bits set, and a client frame without a mask', async () => {
    for (const rsv of [0x40, 0x20, 0x10, 0x70]) await badFrame(frame({ opcode: TEXT, rsv, payload: call(1) }), 1002);
    await badFrame(frame({ opcode: TEXT, mask: false, payload: call(1) }), 1002);
    await badFrame(frame({ opcode: PING, mask: false }), 1002);
    await expectAlive();
  });

  it('every undefined opcode', async () => {
    for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf])
      await badFrame(frame({ opcode, payload: 'x' }), 1002);
    await expectAlive();
  });

  it('fragmented garbage: a lone continuation, a message in a message, split or big control frames', async () => {
    await badFrame(frame({ opcode: 0, payload: call(1) }), 1002);
    await badFrame(
      [frame({ opcode: TEXT, fin: false, payload: '{"type":' }), frame({ opcode: TEXT, payload: '"call"}' })],
      1002,
    );
    await badFrame(
      [frame({ opcode: BINARY, fin: false, payload: 'ab' }), frame({ opcode: BINARY, payload: 'cd' })],
      1002,
    );
    await badFrame(frame({ opcode: PING, fin: false, payload: 'x' }), 1002);
    await badFrame(frame({ opcode: PING, payload: Buffer.alloc(126) }), 1002);
    await badFrame(frame({ opcode: CLOSE, fin: false, payload: closePayload(1000) }), 1002);
    await expectAlive();
  });

  it('close frames with bad codes or a one-byte payload', async () => {
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
      await badFrame(frame({ opcode: CLOSE, payload: closePayload(code) }), 1002);
    await badFrame(frame({ opcode: CLOSE, payload: Buffer.from([0x03]) }), 1002);
    await expectAlive();
  });

  it('well-formed frames that are not contract calls: binary, not JSON, wrong shapes, deep nesting', async () => {
    await badFrame(frame({ opcode: BINARY, payload: call(1) }), 1003);
    for (const text of [
      'not json',
      '',
      '[]',
      'null',
      '{"type":"call","id":"1","name":"app.info"}',
      '{"type":"call","id":1.5,"name":"app.info"}',
      '{"type":"reply","id":1}',
    ]) {
      await badFrame(frame({ opcode: TEXT, payload: text }), 1003);
    }
    await badFrame(frame({ opcode: TEXT, payload: '['.repeat(500_000) + ']'.repeat(500_000) }), 1003);
    await expectAlive();
  });

  it('answers a well-formed call with absurd arguments and keeps the connection', async () => {
    const raw = await upgraded();
    const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    raw.socket.write(frame({ opcode: TEXT, payload: `{"type":"call","id":7,"name":"app.info","args":${deep}}` }));
    raw.socket.write(
      frame({ opcode: TEXT, payload: `{"type":"call","id":8,"name":"${'x'.repeat(600_000)}","args":{}}` }),
    );
    raw.socket.write(frame({ opcode: TEXT, payload: call(9) }));
    await until(
      'three replies',
      () =>
        (
          raw
            .received()
            .toString('latin1')
            .match(/"type":"reply"/g) ?? []
        ).length >= 3,
      10_000,
    );
    const text = raw.received().toString('latin1');
    expect(text).toContain('"id":7,"reply":{"ok":false,"error":{"code":"BAD_INPUT"');
    expect(text).toContain('"id":8,"reply":{"ok":false,"error":{"code":"UNKNOWN_METHOD"');
    expect(text).toMatch(/"id":9,"reply":\{"ok":true/);
    expect(raw.ended()).toBe(false);
    raw.socket.destroy();
    tally.frames += 3;
    await expectAlive();
  });
});

describe('resets before and after the upgrade', () => {
  it('a bad token whose client resets at once, after a tick, after 1 ms, and after the refusal began', async () => {
    for (let round = 0; round < 10; round += 1) {
      for (const when of ['now', 'tick', '1ms', 'answer'] as const) {
        const raw = await rawConnect({ port: served.port });
        raw.socket.write(upgradeRequest({ port: served.port, token: 'wrong-token' }));
        if (when === 'tick') await new Promise((resolve) => setImmediate(resolve));
        if (when === '1ms') await new Promise((resolve) => setTimeout(resolve, 1));
        if (when === 'answer') await until('the refusal', () => raw.received().length > 0 || raw.ended(), 5000);
        raw.socket.resetAndDestroy();
        tally.resets += 1;
      }
    }
    await expectAlive();
  });

  it('a good token, then a reset mid-frame, mid-call and mid-reply', async () => {
    for (let round = 0; round < 10; round += 1) {
      const half = await upgraded();
      half.socket.write(frame({ opcode: TEXT, payload: call(1) }).subarray(0, 9));
      half.socket.resetAndDestroy();
      const calling = await upgraded();
      calling.socket.write(
        frame({
          opcode: TEXT,
          payload: JSON.stringify({ type: 'call', id: 2, name: 'doctor.run', args: { only: ['disk'] } }),
        }),
      );
      calling.socket.resetAndDestroy();
      const replying = await upgraded();
      const before = replying.received().length;
      replying.socket.write(frame({ opcode: TEXT, payload: call(3) }));
      await until('the reply to start', () => replying.received().length > before, 5000);
      replying.socket.resetAndDestroy();
      tally.resets += 3;
    }
    await expectAlive();
  });

  it('resets mid-headers, mid-upgrade-headers and while a page file is being sent', async () => {
    const index = readFileSync(path.join(repoRoot, 'out', 'renderer', 'index.html'), 'utf8');
    const script = /src="([^"]+\.js)"/.exec(index)?.[1] ?? '/index.html';
    for (let round = 0; round < 10; round += 1) {
      const headers = await rawConnect({ port: served.port });
      headers.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\nX-Half: `);
      headers.socket.resetAndDestroy();
      const upgrade = await rawConnect({ port: served.port });
      upgrade.socket.write(upgradeRequest({ port: served.port, token: served.token }).slice(0, 60));
      upgrade.socket.resetAndDestroy();
      const file = await rawConnect({ port: served.port });
      file.socket.write(`GET ${script} HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\n\r\n`);
      await until('the file to start', () => file.received().length > 0, 5000);
      file.socket.resetAndDestroy();
      tally.resets += 3;
    }
    await expectAlive();
  });
});

describe('slow clients are timed out and cannot starve the server', () => {
  it('cuts off silence, trickled headers and upgrades, a trickled frame and a client that never pongs', async () => {
    const started = Date.now();
    let done = false;
    const silent = await rawConnect({ port: served.port });
    const headers = await rawConnect({ port: served.port });
    const upgrade = await rawConnect({ port: served.port });
    const framed = await upgraded();
    const mute = await upgraded();
    const crowd = await Promise.all(Array.from({ length: 40 }, () => rawConnect({ port: served.port })));
    void trickle(
      headers.socket,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\n${'X-Slow: y\r\n'.repeat(1000)}`,
      300,
      () => done,
    );
    void trickle(
      upgrade.socket,
      upgradeRequest({ port: served.port, token: served.token }).replace(
        /\r\n\r\n$/,
        `\r\n${'X-Slow: y\r\n'.repeat(1000)}`,
      ),
      300,
      () => done,
    );
    void trickle(framed.socket, frame({ opcode: TEXT, payload: call(1).padEnd(2000) }), 500, () => done);
    for (const raw of crowd)
      void trickle(
        raw.socket,
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\n${'X-Slow: y\r\n'.repeat(100)}`,
        1000,
        () => done,
      );
    // While 45 slow connections are held open, a good client is still served.
    await expectAlive();
    const closedAt = new Map<string, number>();
    const watched = { silent, headers, upgrade, framed, mute };
    await until(
      'every slow client to be cut off',
      () => {
        for (const [name, raw] of Object.entries(watched))
          if (raw.ended() && !closedAt.has(name)) closedAt.set(name, Date.now() - started);
        return closedAt.size === 5 && crowd.every((raw) => raw.ended());
      },
      40_000,
    );
    done = true;
    console.log(`slow clients cut off after (ms): ${JSON.stringify(Object.fromEntries(closedAt))}`);
    // Headers get 10 s; an upgraded client that misses a ping is dropped at the next one (10 s apart).
    for (const name of ['silent', 'headers', 'upgrade']) expect(closedAt.get(name), name).toBeLessThan(15_000);
    for (const name of ['framed', 'mute']) expect(closedAt.get(name), name).toBeLessThan(25_000);
    expect(headers.status()).toBe(408);
    tally.slow += 5 + crowd.length;
    await expectAlive();
  }, 60_000);

  it('closes connections over the cap at once and serves again when they are gone', async () => {
    const flood = await Promise.all(Array.from({ length: 160 }, () => rawConnect({ port: served.port })));
    await until(
      'the connections over the cap to be closed',
      () => flood.filter((raw) => raw.ended()).length >= 160 - 128,
      5000,
    );
    await until('the rest to time out', () => flood.every((raw) => raw.ended()), 20_000);
    tally.slow += flood.length;
    await expectAlive();
  }, 40_000);
});

describe('Host and Origin', () => {
  async function get(host: string | undefined, version = '1.1'): Promise<number | undefined> {
    const raw = await rawConnect({ port: served.port });
    raw.socket.write(
      `GET / HTTP/${version}\r\n${host === undefined ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`,
    );
    await until('an answer', () => raw.status() !== undefined || raw.ended(), 5000);
    raw.socket.destroy();
    tally.hosts += 1;
    return raw.status();
  }

  async function upgradeStatus(headers: { host?: string; origin?: string }): Promise<number | undefined> {
    const raw = await rawConnect({ port: served.port });
    raw.socket.write(upgradeRequest({ port: served.port, token: served.token, ...headers }));
    await until('an answer', () => raw.status() !== undefined || raw.ended(), 5000);
    raw.socket.destroy();
    return raw.status();
  }

  it('serves only requests whose Host names this server (DNS rebinding)', async () => {
    const port = served.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`])
      expect(await get(host), host).toBe(200);
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      `127.0.0.1:${port + 1}`,
      '127.0.0.1',
      `0.0.0.0:${port}`,
      `127.0.0.1.evil.example:${port}`,
      `evil@127.0.0.1:${port}`,
      `localhost.:${port}`,
    ]) {
      expect(await get(host), host).toBe(421);
    }
    expect(await get(undefined, '1.0')).toBe(421);
    expect(await get(undefined, '1.1')).toBe(400); // Node refuses HTTP/1.1 without Host itself
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`]) {
      expect(await upgradeStatus({ host }), host).toBe(421);
      tally.hosts += 1;
    }
    await expectAlive();
  });

  it('accepts a WebSocket from the page as the browser reached it, and no other Origin', async () => {
    const port = served.port;
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]) {
      expect(await upgradeStatus({ origin }), origin).toBe(101);
      tally.origins += 1;
    }
    for (const origin of [
      'http://evil.example',
      'null',
      `https://127.0.0.1:${port}`,
      `http://127.0.0.1:${port + 1}`,
      `http://0.0.0.0:${port}`,
      `http://127.0.0.1:${port}/`,
      `http://evil.example:${port}`,
      `http://u@127.0.0.1:${port}`,
    ]) {
      expect(await upgradeStatus({ origin }), origin).toBe(403);
      tally.origins += 1;
    }
    await expectAlive();
  });
});

describe('floods from an authenticated page', () => {
  it('answers calls past 64 in flight on one connection at once with UNAVAILABLE, and the rest in full', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${served.port}/ws?token=${served.token}`, { origin: served.origin });
    const replies = new Map<number, { ok: boolean; error?: { code: string; message: string } }>();
    ws.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as ServerFrame;
      if (parsed.type === 'reply') replies.set(parsed.id, parsed.reply as { ok: boolean });
    });
    await once(ws, 'open');
    for (let id = 1; id <= 70; id += 1)
      ws.send(JSON.stringify({ type: 'call', id, name: 'doctor.run', args: { only: ['docker'] } }));
    await until('70 replies', () => replies.size === 70, 20_000);
    const busy = [...replies.values()].filter((reply) => reply.error?.code === 'UNAVAILABLE');
    expect(busy).toHaveLength(6);
    expect(busy[0]!.error!.message).toBe('64 requests are already running on this connection: wait for some to finish');
    expect([...replies.values()].filter((reply) => reply.ok)).toHaveLength(64);
    ws.terminate();
    tally.floods += 70;
    await expectAlive();
  });

  it('refuses a browser tab over the 32 connected (503) and takes one again when a tab closes', async () => {
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${served.port}/ws?token=${served.token}`, { origin: served.origin });
      ws.on('error', () => undefined);
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      });
    };
    const tabs = await Promise.all(Array.from({ length: 31 }, open)); // the log listener is the 32nd
    await expect(open()).rejects.toThrow('HTTP 503');
    tabs.pop()!.close();
    const reopened = async () => {
      const ws = await open().catch(() => undefined);
      if (ws) tabs.push(ws);
      return ws !== undefined;
    };
    await until('a slot to free up', reopened, 5000);
    tabs.forEach((ws) => ws.terminate());
    tally.floods += 33;
    await expectAlive();
  });
});

describe('what serve logged meanwhile', () => {
  it('logged refusals and broken connections in single lines, rate-limited, with no stack trace or token', () => {
    const fromServe = logs.filter((line) => line.source === 'serve');
    for (const kind of [
      'Refused a WebSocket',
      'Closed a browser connection',
      'Refused a request for Host',
      'Refused a malformed or slow request',
    ]) {
      expect(
        fromServe.some((line) => line.message.startsWith(kind)),
        kind,
      ).toBe(true);
    }
    // Hundreds of hostile connections, a few dozen lines: one per kind per 10 s.
    expect(fromServe.length).toBeLessThan(100);
    for (const line of logs) {
      expect(line.message).not.toMatch(/[\r\n]/);
      expect(line.message).not.toMatch(/\bat \S+ \(?[^)]*:\d+:\d+/);
      expect(line.message).not.toContain(served.token);
    }
    expect(listener.readyState).toBe(WebSocket.OPEN); // the good page was never disturbed
  });

  it('tried every case it meant to, and serve never exited', () => {
    expect(tally).toMatchObject({ frames: 52, resets: 100, slow: 205, hosts: 17, origins: 11, floods: 103 });
    expect(served.child.exitCode).toBeNull();
  });
});
