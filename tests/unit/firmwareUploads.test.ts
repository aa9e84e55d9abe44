// Firmware files sent in chunks through the contract: the store's rules, and the one client helper
// (uploadFirmware) against a real host, as the CLI and the pages use it.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  FIRMWARE_CHUNK_BYTES,
  MAX_FIRMWARE_BYTES,
  MakerdeckError,
  type ArgsOf,
  type RequestName,
  type ResultOf,
} from '../../electron/contract';
import { uploadFirmware } from '../../electron/contract/firmwareUpload';
import { FirmwareUploads } from '../../electron/core/firmware/firmwareUploads';
import { createHost } from '../../electron/core/host';
import { fakeEsp32Merged } from '../rig/esp/testImages';
import { until } from '../support/wait';

const b64 = (bytes: Buffer) => bytes.toString('base64');

function refusal(work: () => unknown): { code: string; message: string } {
  try {
    work();
  } catch (error) {
    if (error instanceof MakerdeckError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('the upload store', () => {
  it('assembles chunks in order, checks the SHA-256 and hands the file to one flash only', () => {
    const uploads = new FirmwareUploads();
    const file = randomBytes(1000);
    const { uploadId, chunkBytes } = uploads.begin('app.bin', file.length);
    expect(uploadId).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(chunkBytes).toBe(FIRMWARE_CHUNK_BYTES);
    expect(uploads.chunk(uploadId, 0, b64(file.subarray(0, 600))).received).toBe(600);
    expect(uploads.chunk(uploadId, 600, b64(file.subarray(600))).received).toBe(1000);
    const sha256 = createHash('sha256').update(file).digest('hex');
    expect(uploads.finish(uploadId, sha256)).toEqual({
      uploadId,
      fileName: 'app.bin',
      bytes: 1000,
      received: 1000,
      sha256,
    });
    expect(uploads.take(uploadId)).toEqual({ fileName: 'app.bin', data: file });
    expect(refusal(() => uploads.take(uploadId)).code).toBe('NOT_FOUND');
    expect(uploads.size).toBe(0);
  });

  it('refuses chunks out of order, past the announced size, or after finishing, keeping what arrived', () => {
    const uploads = new FirmwareUploads();
    const { uploadId } = uploads.begin('app.hex', 10);
    expect(refusal(() => uploads.chunk(uploadId, 4, b64(Buffer.alloc(4))))).toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/send the chunks in order/),
    });
    uploads.chunk(uploadId, 0, b64(Buffer.alloc(8)));
    expect(refusal(() => uploads.chunk(uploadId, 8, b64(Buffer.alloc(4))))).toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/past the 10 bytes/),
    });
    expect(refusal(() => uploads.finish(uploadId))).toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/has 8 of 10 bytes/),
    });
    expect(refusal(() => uploads.take(uploadId))).toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/not finished/),
    });
    uploads.chunk(uploadId, 8, b64(Buffer.alloc(2)));
    uploads.finish(uploadId);
    expect(refusal(() => uploads.chunk(uploadId, 10, b64(Buffer.alloc(1))))).toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/already finished/),
    });
    expect(uploads.take(uploadId).data).toEqual(Buffer.alloc(10));
  });

  it('drops an upload whose SHA-256 does not match', () => {
    const uploads = new FirmwareUploads();
    const { uploadId } = uploads.begin('app.bin', 3);
    uploads.chunk(uploadId, 0, b64(Buffer.from('abc')));
    expect(refusal(() => uploads.finish(uploadId, '0'.repeat(64)))).toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/arrived damaged/),
    });
    expect(uploads.size).toBe(0);
  });

  it('holds a few uploads at once and frees abandoned ones when they go idle', async () => {
    const uploads = new FirmwareUploads({ maxUploads: 2, idleMs: 300 });
    const first = uploads.begin('a.bin', 10).uploadId;
    uploads.begin('b.bin', 10);
    expect(refusal(() => uploads.begin('c.bin', 10))).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/2 firmware uploads are open already/),
    });
    await until('the abandoned uploads to expire', () => uploads.size === 0, 5000);
    expect(refusal(() => uploads.chunk(first, 0, b64(Buffer.alloc(1)))).message).toMatch(
      /expired after 0.3 s untouched/,
    );
    expect(uploads.begin('c.bin', 10).uploadId).toBeTruthy();
    uploads.clear();
    expect(uploads.size).toBe(0);
  });
});

describe('uploadFirmware through a host', () => {
  const host = createHost({ kind: 'cli', quiet: true });
  const call = async <N extends RequestName>(name: N, args: ArgsOf<N>): Promise<ResultOf<N>> => {
    const reply = await host.call(name, args);
    if (!reply.ok) throw MakerdeckError.fromWire(reply.error);
    return reply.value as ResultOf<N>;
  };

  it('sends an 800 KiB image in chunks under the limit, then firmware.flash takes it once', async () => {
    const image = fakeEsp32Merged(800 * 1024);
    const seen: number[] = [];
    const sent: number[] = [];
    const counting = (async (name, args) => {
      if (name === 'firmware.uploadChunk') sent.push(JSON.stringify(args).length);
      return call(name, args);
    }) as typeof call;
    const done = await uploadFirmware(counting, 'big.bin', image, (received) => seen.push(received));
    expect(done).toMatchObject({
      fileName: 'big.bin',
      bytes: image.length,
      received: image.length,
      sha256: createHash('sha256').update(image).digest('hex'),
    });
    expect(seen).toEqual([196_608, 393_216, 589_824, 786_432, 819_200]);
    expect(Math.max(...sent)).toBeLessThan(300 * 1024);
    const flash = { port: '/dev/makerdeck-no-such-port', board: 'esp32' as const, source: { uploadId: done.uploadId } };
    const first = await host.call('firmware.flash', flash);
    expect(first).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/does not exist/) },
    });
    const second = await host.call('firmware.flash', flash);
    expect(second).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/^No firmware upload/) },
    });
  });

  it('refuses at the contract what the store would not take: too big, bad base64, bad ids', async () => {
    expect(await host.call('firmware.uploadBegin', { fileName: 'x.bin', bytes: MAX_FIRMWARE_BYTES + 1 })).toMatchObject(
      { ok: false, error: { code: 'BAD_INPUT', message: expect.stringMatching(/larger than 16 MiB/) } },
    );
    expect(await host.call('firmware.uploadBegin', { fileName: 'x.bin', bytes: 0 })).toMatchObject({
      ok: false,
      error: { code: 'BAD_INPUT' },
    });
    const begun = await call('firmware.uploadBegin', { fileName: 'x.bin', bytes: 4 });
    for (const dataBase64 of [
      '',
      'A',
      'AAA',
      '!!!!',
      'AAAA====',
      'QUJD\n',
      'A'.repeat(Math.ceil(FIRMWARE_CHUNK_BYTES / 3) * 4 + 4),
    ]) {
      const reply = await host.call('firmware.uploadChunk', { uploadId: begun.uploadId, offset: 0, dataBase64 });
      expect(reply, dataBase64.slice(0, 10)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    }
    expect(
      await host.call('firmware.uploadChunk', { uploadId: '../../etc', offset: 0, dataBase64: 'AAAA' }),
    ).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(
      await host.call('firmware.flash', {
        port: '/dev/x',
        board: 'uno',
        source: { fileName: 'a.hex', contentBase64: 'AAAA' },
      }),
    ).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(
      await host.call('firmware.uploadChunk', { uploadId: begun.uploadId, offset: 0, dataBase64: 'QUJDRA==' }),
    ).toMatchObject({ ok: true, value: { received: 4 } });
  });

  it('takes a largest chunk: the base64 pattern copes with its full length', async () => {
    const chunk = randomBytes(FIRMWARE_CHUNK_BYTES);
    const begun = await call('firmware.uploadBegin', { fileName: 'x.bin', bytes: chunk.length });
    expect(
      await call('firmware.uploadChunk', { uploadId: begun.uploadId, offset: 0, dataBase64: b64(chunk) }),
    ).toMatchObject({ received: chunk.length });
  });
});
