import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PackManifest } from '../../electron/contract';
import { PackWriter, readPack, readPackManifest } from '../../electron/core/pack/packArchive';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-pack-unit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (body: Buffer | string) => createHash('sha256').update(body).digest('hex');

function manifestFor(files: Array<{ path: string; body: Buffer | string }>): PackManifest {
  const entries = files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.body), sha256: sha(f.body) }));
  return {
    format: 'makerdeck-pack',
    formatVersion: 1,
    id: '0123456789abcdef',
    createdAt: '2026-12-05T20:00:00.000Z',
    createdBy: { makerdeck: '0.1.0', platform: 'linux', arch: 'x64' },
    parts: [
      {
        id: 'build/0123456789abcdef',
        kind: 'build',
        title: 'test',
        bytes: entries.reduce((s, e) => s + e.bytes, 0),
        files: entries,
      },
    ],
  };
}

/** Writes a raw tar with the given entries in order, bypassing PackWriter's checks (a hostile pack). */
async function rawTar(file: string, entries: Array<{ header: tar.Headers; body?: Buffer | string }>): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(file));
  for (const { header, body } of entries)
    await new Promise<void>((resolve, reject) =>
      pack.entry({ mode: 0o644, ...header }, body ?? '', (e) => (e ? reject(e) : resolve())),
    );
  pack.finalize();
  await done;
}

async function collect(file: string): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  await readPack(file, {
    onMember: async (member) => {
      const chunks: Buffer[] = [];
      for await (const chunk of member.stream) chunks.push(chunk as Buffer);
      seen.set(member.path, Buffer.concat(chunks).toString('latin1'));
    },
  });
  return seen;
}

describe('PackWriter and readPack', () => {
  it('writes manifest first then every member, and reads them back checked', async () => {
    const plain = path.join(dir, 'plain.bin');
    const body = Buffer.alloc(70_000, 7);
    writeFileSync(plain, body);
    const file = path.join(dir, 'lab.mdpack');
    const writer = await PackWriter.open(file);
    const a = await writer.add({ path: 'builds/a.hex', file: plain });
    const b = await writer.add({
      path: 'arduino-cli/linux-x64/arduino-cli.gz',
      stream: () => Readable.from([Buffer.from('binary')]).pipe(createGzip()),
    });
    expect(a).toEqual({ path: 'builds/a.hex', bytes: 70_000, sha256: sha(body) });
    const manifest = manifestFor([]);
    manifest.parts[0]!.files = [a, b];
    manifest.parts[0]!.bytes = a.bytes + b.bytes;
    const result = await writer.finish(manifest);

    expect(readdirSync(dir).sort()).toEqual(['lab.mdpack', 'plain.bin']);
    const raw = readFileSync(file);
    expect(result).toEqual({ bytes: raw.length, sha256: sha(raw) });
    expect(raw.subarray(0, 13).toString()).toBe('manifest.json');
    expect(await readPackManifest(file)).toEqual(manifest);
    const members = await collect(file);
    expect(members.get('builds/a.hex')).toBe(body.toString('latin1'));
    expect(gunzipSync(Buffer.from(members.get('arduino-cli/linux-x64/arduino-cli.gz')!, 'latin1')).toString()).toBe(
      'binary',
    );
  });

  it('carries an empty member', async () => {
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '');
    const file = path.join(dir, 'lab.mdpack');
    const writer = await PackWriter.open(file);
    const entry = await writer.add({ path: 'libraries/empty', file: empty });
    const manifest = manifestFor([]);
    manifest.parts[0]!.files = [entry];
    await writer.finish(manifest);
    expect(await collect(file)).toEqual(new Map([['libraries/empty', '']]));
  });

  it('refuses an existing file unless overwrite, and abort leaves nothing', async () => {
    const file = path.join(dir, 'lab.mdpack');
    writeFileSync(file, 'keep me');
    await expect(PackWriter.open(file)).rejects.toThrow(/exists: choose another file name/);
    const writer = await PackWriter.open(file, { overwrite: true });
    await writer.add({ path: 'x/y', stream: () => Readable.from([Buffer.from('staged')]) });
    await writer.abort();
    expect(readdirSync(dir)).toEqual(['lab.mdpack']);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('refuses to finish when a member file changed after it was added', async () => {
    const plain = path.join(dir, 'plain.bin');
    writeFileSync(plain, 'first');
    const writer = await PackWriter.open(path.join(dir, 'lab.mdpack'));
    const entry = await writer.add({ path: 'builds/a.hex', file: plain });
    writeFileSync(plain, 'fir5t');
    const manifest = manifestFor([]);
    manifest.parts[0]!.files = [entry];
    manifest.parts[0]!.bytes = entry.bytes;
    await expect(writer.finish(manifest)).rejects.toThrow(/changed while the pack was written/);
    await writer.abort();
    expect(readdirSync(dir)).toEqual(['plain.bin']);
  });

  it('refuses a member path that is absolute or climbs out', async () => {
    const writer = await PackWriter.open(path.join(dir, 'lab.mdpack'));
    await expect(writer.add({ path: '../evil', file: __filename })).rejects.toThrow(/segment/);
    await expect(writer.add({ path: '/etc/passwd', file: __filename })).rejects.toThrow(/absolute/);
    await writer.abort();
  });
  it('says so when a consumer stops reading a member half way, rather than a misleading truncation', async () => {
    const big = path.join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(200_000, 1));
    const file = path.join(dir, 'lab.mdpack');
    const writer = await PackWriter.open(file);
    const entries = [
      await writer.add({ path: 'builds/a.bin', file: big }),
      await writer.add({ path: 'builds/b.bin', file: big }),
    ];
    const manifest = manifestFor([]);
    manifest.parts[0]!.files = entries;
    manifest.parts[0]!.bytes = 400_000;
    await writer.finish(manifest);
    const stopEarly = readPack(file, {
      onMember: async (member) => {
        for await (const _chunk of member.stream) break;
      },
    });
    await expect(stopEarly).rejects.toThrow(/builds\/a.bin was not read to its end/);
  });
});

describe('readPack refuses', () => {
  const good = [{ path: 'builds/a.hex', body: 'hello world' }];
  const manifestEntry = (m: PackManifest) => ({ header: { name: 'manifest.json' }, body: JSON.stringify(m) });

  it('a tampered byte', async () => {
    const file = path.join(dir, 'lab.mdpack');
    await rawTar(file, [manifestEntry(manifestFor(good)), { header: { name: 'builds/a.hex' }, body: 'hellO world' }]);
    await expect(collect(file)).rejects.toThrow(/builds\/a.hex does not match its SHA-256/);
    await expect(readPack(file)).rejects.toThrow(/does not match its SHA-256/); // without a consumer too
  });

  it('a tampered byte found by flipping it in a pack PackWriter wrote', async () => {
    const plain = path.join(dir, 'plain.bin');
    writeFileSync(plain, 'A'.repeat(5000));
    const file = path.join(dir, 'lab.mdpack');
    const writer = await PackWriter.open(file);
    const entry = await writer.add({ path: 'builds/a.hex', file: plain });
    const manifest = manifestFor([]);
    manifest.parts[0]!.files = [entry];
    manifest.parts[0]!.bytes = entry.bytes;
    await writer.finish(manifest);
    const raw = readFileSync(file);
    const at = raw.indexOf('AAAA');
    raw[at + 100] = 'B'.charCodeAt(0);
    writeFileSync(file, raw);
    await expect(readPack(file)).rejects.toThrow(/does not match its SHA-256/);
  });

  it('a member the manifest does not list', async () => {
    const file = path.join(dir, 'lab.mdpack');
    await rawTar(file, [
      manifestEntry(manifestFor(good)),
      { header: { name: 'builds/a.hex' }, body: 'hello world' },
      { header: { name: 'builds/extra.hex' }, body: 'surprise' },
    ]);
    await expect(collect(file)).rejects.toThrow(/holds "builds\/extra.hex", which its manifest does not list/);
  });

  it('a member listed once but stored twice', async () => {
    const file = path.join(dir, 'lab.mdpack');
    const member = { header: { name: 'builds/a.hex' }, body: 'hello world' };
    await rawTar(file, [manifestEntry(manifestFor(good)), member, member]);
    await expect(readPack(file)).rejects.toThrow(/does not list \(or lists once\)/);
  });

  it('a missing member and a truncated archive', async () => {
    const file = path.join(dir, 'lab.mdpack');
    const two = [...good, { path: 'builds/b.hex', body: 'x'.repeat(4000) }];
    await rawTar(file, [manifestEntry(manifestFor(two)), { header: { name: 'builds/a.hex' }, body: 'hello world' }]);
    await expect(readPack(file)).rejects.toThrow(/lacks 1 member\(s\).*first: builds\/b.hex/);

    const whole = path.join(dir, 'whole.mdpack');
    await rawTar(whole, [
      manifestEntry(manifestFor(two)),
      { header: { name: 'builds/a.hex' }, body: 'hello world' },
      { header: { name: 'builds/b.hex' }, body: 'x'.repeat(4000) },
    ]);
    await expect(readPack(whole)).resolves.toMatchObject({ format: 'makerdeck-pack' });
    const raw = readFileSync(whole);
    writeFileSync(file, raw.subarray(0, raw.indexOf('xxxx') + 1000));
    await expect(collect(file)).rejects.toThrow(/ends early \(truncated\)|truncated/);
  });

  it('a member with another size than the manifest says', async () => {
    const file = path.join(dir, 'lab.mdpack');
    await rawTar(file, [manifestEntry(manifestFor(good)), { header: { name: 'builds/a.hex' }, body: 'hello' }]);
    await expect(readPack(file)).rejects.toThrow(/has 5 bytes, the manifest says 11/);
  });

  it('path traversal, absolute paths and links, in the archive or in the manifest', async () => {
    const file = path.join(dir, 'lab.mdpack');
    for (const name of ['../evil', '/etc/evil', 'a/../../evil', 'C:/evil']) {
      await rawTar(file, [manifestEntry(manifestFor(good)), { header: { name }, body: 'x' }]);
      await expect(readPack(file), name).rejects.toThrow(/is absolute|segment/);
    }
    await rawTar(file, [
      manifestEntry(manifestFor(good)),
      { header: { name: 'builds/a.hex', type: 'symlink', linkname: '/etc/passwd' } },
    ]);
    await expect(readPack(file)).rejects.toThrow(/is a symlink entry, not a file/);
    await rawTar(file, [
      manifestEntry(manifestFor(good)),
      { header: { name: 'builds/a.hex', type: 'link', linkname: 'manifest.json' } },
    ]);
    await expect(readPack(file)).rejects.toThrow(/is a link entry/);

    await rawTar(file, [manifestEntry(manifestFor([{ path: '../evil', body: 'x' }])), { header: { name: 'x' } }]);
    await expect(readPackManifest(file)).rejects.toThrow(/bad manifest .*"\.\.\/evil" has an empty/);
  });

  it('a manifest that is not first, not JSON, or not a manifest', async () => {
    const file = path.join(dir, 'lab.mdpack');
    await rawTar(file, [{ header: { name: 'builds/a.hex' }, body: 'hello world' }, manifestEntry(manifestFor(good))]);
    await expect(readPackManifest(file)).rejects.toThrow(/starts with "builds\/a.hex", not manifest.json/);
    await rawTar(file, [{ header: { name: 'manifest.json' }, body: '{not json' }]);
    await expect(readPack(file)).rejects.toThrow(/manifest that is not JSON/);
    await rawTar(file, [{ header: { name: 'manifest.json' }, body: '{"format":"zip"}' }]);
    await expect(readPack(file)).rejects.toThrow(/bad manifest \(format/);
    writeFileSync(file, 'plain text, no tar at all'.repeat(40));
    await expect(readPack(file)).rejects.toThrow(/lab.mdpack is no Makerdeck pack \(not a tar archive\)/);
    await expect(readPack(path.join(dir, 'none.mdpack'))).rejects.toThrow(/cannot be read \(ENOENT\)/);
    const aborted = AbortSignal.abort();
    await expect(readPack(file, { signal: aborted })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
  // A named pipe blocks its open until a writer comes, /dev/zero never ends: each would hold the request forever.
  it.skipIf(process.platform === 'win32')(
    'a named pipe, a device or a folder, at once and in one line, reading nothing',
    async () => {
      const fifo = path.join(dir, 'pipe.mdpack');
      execFileSync('mkfifo', [fifo]);
      const refusals: Array<[string, RegExp]> = [
        [fifo, /pipe\.mdpack is a named pipe, not a file: name a \.mdpack file$/],
        ['/dev/zero', /^\/dev\/zero is a device, not a file/],
        [dir, /is a folder, not a file/],
      ];
      for (const [file, message] of refusals) {
        await expect(readPackManifest(file)).rejects.toMatchObject({
          code: 'BAD_INPUT',
          message: expect.stringMatching(message),
        });
        await expect(readPack(file)).rejects.toMatchObject({ code: 'BAD_INPUT' });
      }
    },
  );
});
