// Flashing over a slow serial link (Bluetooth serial adapters, busy USB hubs): the bootloader's
// answers arrive ~300 ms late. The board is the emulated Uno (real optiboot in simavr); the link is
// a stand-in relay pty that holds back every byte the board sends.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MonitorLine } from '../../electron/contract';
import { avrBoard } from '../../electron/core/firmware/avrBoards';
import { flashAvr } from '../../electron/core/firmware/avrFlasher';
import { parseIntelHex } from '../../electron/core/firmware/intelHex';
import { createHost } from '../../electron/core/host';
import { writeChecksumSketch } from '../support/sketches';
import { compileWithRig, slowLink, startUno, type EmulatedUno } from '../support/uno';
import { until } from '../support/wait';

const UNO = avrBoard('uno')!;
let scratch: string;
let uno: EmulatedUno;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-slowflash-'));
  uno = await startUno(path.join(scratch, 'uno'));
}, 60_000);

afterAll(async () => {
  await uno?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('flashing the emulated Uno through a stand-in slow link (answers 300 ms late)', () => {
  it('syncs, writes and verifies; the sketch then runs with the checksum of what was written', async () => {
    const sketch = writeChecksumSketch(scratch, 1024);
    const { hex } = await compileWithRig(sketch.sketchDir, path.join(scratch, 'out'));
    const image = parseIntelHex(hex, UNO.flashSize);
    const link = await slowLink(uno.pty, 300);
    try {
      const phases = new Set<string>();
      const result = await flashAvr({ port: link.path, board: UNO, image, onProgress: (p) => phases.add(p.phase) });
      expect(result.bytes).toBe(image.data.length);
      expect([...phases]).toEqual(['write', 'verify']); // verify reads every byte back through the link
    } finally {
      await link.stop();
    }
    // Straight on the board's own port: the program that runs is the one written.
    const host = createHost({ kind: 'cli', quiet: true, dataDir: path.join(scratch, 'data') });
    const lines: MonitorLine[] = [];
    const stop = host.bus.on('monitor.lines', (batch) => lines.push(...batch.lines));
    const reply = await host.call('monitor.open', { port: uno.pty, baudRate: 115200 });
    if (!reply.ok) throw new Error(reply.error.message);
    try {
      const line = await until('the checksum line', () => lines.find((l) => l.text.startsWith('checksum=')));
      expect(line.text).toBe(`checksum=${sketch.checksum}`);
    } finally {
      await host.call('monitor.close', { sessionId: (reply.value as { sessionId: string }).sessionId });
      stop();
    }
  }, 180_000);
});
