// The request fuzz corpus (tests/support/requestFuzz.ts: every request of the contract, hostile
// arguments) against the real host in process and against the real `makerdeck serve` process over
// its WebSocket. Requests with side effects get only arguments their schema refuses (checked here
// before sending); read-only ones get every case. After each request's batch the host must still
// be alive and answer a known-good request; no reply or event may carry a secret that was sent; the
// data folder must be as it was.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { requestNames, type Reply } from '../../electron/contract';
import { createHost } from '../../electron/core/host';
import { snapshot } from '../support/files';
import { echoedSecrets, FUZZ_RANDOM_PER_REQUEST, fuzzSeed, parseArgs } from '../support/requestFuzz';
import { READ_ONLY_REQUESTS, replyProblem, requestCorpus, type FuzzCase } from '../support/requestFuzz';
import { startServe, type Served } from '../support/serve';
import { until } from '../support/wait';

const seed = fuzzSeed();
const corpus = requestCorpus(seed, FUZZ_RANDOM_PER_REQUEST);
/** What may be sent: a valid case runs its handler, so only for read-only requests. */
const sendable = corpus.filter((fuzz) => !fuzz.valid || READ_ONLY_REQUESTS.has(fuzz.name));
const names = [...new Set(sendable.map((fuzz) => fuzz.name))];
const batches = names.map((name) => [name, sendable.filter((fuzz) => fuzz.name === name)] as const);
const KNOWN_GOOD: FuzzCase = { name: 'app.info', argsJson: '{}', secrets: [], label: 'known good', valid: true };

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-fuzz-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('request fuzz against the real host', () => {
  it('in process: every case answered as the contract says, the host intact', async () => {
    const host = createHost({ kind: 'web', dataDir, quiet: true });
    const events: string[] = [];
    host.bus.onAny((name, payload) => events.push(JSON.stringify({ name, payload })));
    const before = snapshot(dataDir);
    const problems: string[] = [];
    let crashes = 0;
    for (const [name, batch] of batches) {
      for (const fuzz of batch) {
        try {
          const problem = replyProblem(fuzz, await host.call(fuzz.name, parseArgs(fuzz.argsJson)));
          if (problem) problems.push(`${fuzz.label}: ${problem}`);
        } catch (error) {
          crashes += 1;
          problems.push(`${fuzz.label}: host.call threw ${String(error)}`);
        }
      }
      expect(await host.call('app.info', {}), `after ${name}`).toMatchObject({ ok: true });
    }
    report('in process', crashes);
    expect(problems.slice(0, 10), `seed ${seed}`).toEqual([]);
    expect(crashes).toBe(0);
    expect(echoedSecrets(sendable, events.join('\n'))).toEqual([]);
    expect(snapshot(dataDir)).toEqual(before);
  }, 300_000);

  describe('makerdeck serve over its WebSocket', () => {
    let served: Served;
    beforeAll(async () => {
      served = await startServe({ MAKERDECK_DATA_DIR: dataDir });
    });
    afterAll(async () => {
      if (served) expect(await served.stop()).toBe(0);
    });

    it("answers every case and stays alive after each request's batch", async () => {
      const client = await FuzzClient.connect(served);
      const before = snapshot(dataDir);
      const problems: string[] = [];
      let crashes = 0;
      for (const [name, batch] of batches) {
        for (const fuzz of batch) {
          const reply = await client.call(fuzz);
          if (reply === undefined) {
            crashes += 1;
            problems.push(`${fuzz.label}: no reply (${client.why()})`);
            break;
          }
          const problem = replyProblem(fuzz, reply);
          if (problem) problems.push(`${fuzz.label}: ${problem}`);
        }
        const knownGood = await client.call(KNOWN_GOOD);
        if (served.child.exitCode !== null || knownGood?.ok !== true) {
          await until('makerdeck serve to exit', () => served.child.exitCode !== null, 5000).catch(() => undefined);
          const exit = served.child.exitCode;
          problems.unshift(`makerdeck serve is gone after the ${name} batch (exit code ${exit}): ${client.why()}`);
          break;
        }
      }
      report('makerdeck serve', crashes);
      expect(problems.slice(0, 10), `seed ${seed}`).toEqual([]);
      expect(crashes).toBe(0);
      expect(echoedSecrets(sendable, client.frames.join('\n'))).toEqual([]);
      expect(snapshot(dataDir)).toEqual(before);
      client.close();
    }, 600_000);
  });
});

function report(where: string, crashes: number): void {
  const requestsFuzzed = names.filter((name) => requestNames.includes(name as never)).length;
  console.log(
    `request fuzz (${where}): seed ${seed}, ${requestsFuzzed} requests fuzzed, ${sendable.length} cases sent ` +
      `(${corpus.length - sendable.length} valid cases of requests with side effects not sent), crashes: ${crashes}`,
  );
}

/** One WebSocket client sending one case at a time, so a crash names the case that caused it. */
class FuzzClient {
  readonly frames: string[] = [];
  private nextId = 1;
  private waiting?: { id: number; resolve: (reply: Reply<unknown> | undefined) => void };
  private closed?: string;

  private constructor(
    private readonly ws: WebSocket,
    served: Served,
  ) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.frames.push(text);
      const frame = JSON.parse(text) as { type: string; id?: number; reply?: Reply<unknown> };
      if (frame.type === 'reply' && frame.id === this.waiting?.id) this.settle(frame.reply);
    });
    ws.on('close', (code, reason) => this.fail(`WebSocket closed: ${code} ${reason.toString()}`));
    served.child.on('exit', (code, signal) => this.fail(`makerdeck serve exited: ${code ?? signal}`));
  }

  static async connect(served: Served): Promise<FuzzClient> {
    const url = `${served.origin.replace('http', 'ws')}/ws?token=${served.token}`;
    const ws = new WebSocket(url, { origin: served.origin });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new FuzzClient(ws, served);
  }

  /** The reply, or undefined when the connection or the process died first. */
  call(fuzz: FuzzCase): Promise<Reply<unknown> | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const id = this.nextId++;
    // Built as text: JSON.stringify could not produce the 100,000-deep arrays.
    const args = fuzz.argsJson === undefined ? '' : `,"args":${fuzz.argsJson}`;
    return new Promise((resolve) => {
      this.waiting = { id, resolve };
      this.ws.send(`{"type":"call","id":${id},"name":${JSON.stringify(fuzz.name)}${args}}`);
    });
  }

  why(): string {
    return this.closed ?? 'unknown';
  }

  close(): void {
    this.ws.close();
  }

  private settle(reply: Reply<unknown> | undefined): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(reply);
  }

  private fail(why: string): void {
    this.closed ??= why;
    this.settle(undefined);
  }
}
