// `makerdeck lab` from the command line, with the real keychain: two CLI processes importing rosters
// while this process updates seats and appends to the log (as the station does) lose nothing; a
// roster import that fails leaves the old roster byte for byte; status and export-log show it all.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabView } from '../../electron/contract';
import { LabStore } from '../../electron/core/lab/labStore';
import { FolderLock } from '../../electron/core/settings/folderLock';
import { runCli, type CliResult } from '../support/cli';
import { requiredEnv } from '../support/env';
import { forgetFolders } from '../support/keychain';

const SEATS = 12;
const IMPORTS_PER_CLI = 4;
let dataDir: string;
const cli = (args: string[]) => runCli(args, { MAKERDECK_DATA_DIR: dataDir }, { timeoutMs: 90_000 });
const ids = Array.from({ length: SEATS }, (_, i) => `c-${String(i + 1).padStart(2, '0')}`);
const labFile = () => readFileSync(path.join(dataDir, 'labs', 'class-c.json'), 'utf8');

function ok(what: string, result: CliResult): CliResult {
  expect(result.code, `${what}: ${result.stdout}${result.stderr}`).toBe(0);
  return result;
}

/** A roster of the lab's ids whose students are all named after `tag`. */
function roster(tag: string): string {
  const file = path.join(dataDir, `roster-${tag}.csv`);
  writeFileSync(file, ['seat,student,device id', ...ids.map((id, i) => `${i + 1},"${tag} ${i + 1}",${id}`)].join('\n'));
  return file;
}

beforeAll(async () => {
  requiredEnv('DBUS_SESSION_BUS_ADDRESS', 'the test Secret Service');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-labcli-'));
  ok('profile set', await cli(['profile', 'set', 'Template', '--board', 'arduino:avr:uno', '--device-id', 'tpl']));
  ok(
    'lab create',
    await cli([
      'lab',
      'create',
      'Class C',
      '--board',
      'arduino:avr:uno',
      '--template',
      'template',
      '--id-pattern',
      'c-{nn}',
      '--seats',
      '12',
    ]),
  );
}, 120_000);

afterAll(async () => {
  await forgetFolders([dataDir]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('makerdeck lab with several writers', () => {
  it('loses no change when two CLI processes import rosters while this process updates seats', async () => {
    const files = { A: roster('A'), B: roster('B') };
    // The station's writes, from this process, for as long as the CLIs run.
    const station = new LabStore(dataDir, new FolderLock(dataDir));
    const lastPort = new Map<string, string>();
    let running = true;
    let writes = 0;
    const stationWrites = (async () => {
      while (running || writes < SEATS) {
        const id = ids[writes % SEATS]!;
        const port = `/dev/ttyACM${writes}`;
        await station.setSeat('class-c', id, { state: 'online', port });
        await station.appendLog('class-c', {
          ...{ time: new Date().toISOString(), port, identity: 'port-order', deviceId: id },
          ...{ result: 'online', seconds: writes },
        });
        lastPort.set(id, port);
        writes++;
        // The station's pace (20 changes a second, well above a real one's), not a wait for anything.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const importer = async (tag: 'A' | 'B') => {
      const results: CliResult[] = [];
      for (let i = 0; i < IMPORTS_PER_CLI; i++)
        results.push(await cli(['lab', 'import-roster', 'class-c', files[tag]]));
      return results;
    };
    const imports = Promise.all([importer('A'), importer('B')]).finally(() => (running = false));
    const [[a, b]] = await Promise.all([imports, stationWrites]);
    for (const result of [...a, ...b]) ok('import-roster', result);

    const lab = JSON.parse(ok('status', await cli(['lab', 'status', 'class-c', '--json'])).stdout) as LabView;
    expect(lab.seatsFrom).toBe('roster');
    // One whole roster (whichever import came last), never a mix of the two.
    const tags = new Set(lab.seats.map((s) => s.student!.split(' ')[0]));
    expect(tags.size).toBe(1);
    expect(lab.seats.map((s) => s.student!.split(' ')[1])).toEqual(ids.map((_, i) => String(i + 1)));
    // Every seat change of the station is there, and every log entry.
    expect(lab.seats.map((s) => [s.deviceId, s.state, s.port])).toEqual(
      ids.map((id) => [id, 'online', lastPort.get(id)]),
    );
    const log = JSON.parse(ok('log', await cli(['lab', 'log', 'class-c', '--json'])).stdout) as Array<{
      seconds: number;
    }>;
    expect(log.map((e) => e.seconds)).toEqual(Array.from({ length: writes }, (_, i) => i));
    expect(writes).toBeGreaterThanOrEqual(SEATS);
  }, 300_000);

  it('leaves the old roster when an import fails, in one line saying why', async () => {
    const before = labFile();
    const bad = (name: string, content: string | Buffer) => {
      const file = path.join(dataDir, name);
      writeFileSync(file, content);
      return file;
    };
    const cases: Array<[string, RegExp]> = [
      [
        bad('dup.csv', 'device id\nx-1\nX-1\n'),
        /^Roster: rows 2 and 3 both use device id X-1: every board needs its own$/,
      ],
      [bad('noid.csv', 'seat,student\n1,Ann\n'), /^Roster: the roster's header has no device id column/],
      [
        bad('latin1.csv', Buffer.from('device id,student\nx-1,J\xf6rg\n', 'latin1')),
        /is not UTF-8 text: save it as "CSV UTF-8"/,
      ],
      [bad('big.csv', `device id\n${'x-1,'.repeat(70_000)}\n`), /is over 256 KB: that is not a class roster$/],
      [dataDir, /is not a file: give a roster CSV$/],
      [path.join(dataDir, 'missing.csv'), /^Cannot read .+missing\.csv \(ENOENT\): give a CSV file$/],
    ];
    for (const [file, message] of cases) {
      const result = await cli(['lab', 'import-roster', 'class-c', file, '--json']);
      expect(result.code, result.stdout).toBe(2);
      const error = JSON.parse(result.stdout).error as { code: string; message: string };
      expect(error.code).toBe('BAD_INPUT');
      expect(error.message).toMatch(message);
      expect(labFile()).toBe(before);
    }
    const text = await cli(['lab', 'import-roster', 'class-c', path.join(dataDir, 'dup.csv')]);
    expect([text.code, text.stdout, text.stderr]).toEqual([
      2,
      '',
      'makerdeck: Roster: rows 2 and 3 both use device id X-1: every board needs its own\n',
    ]);
  }, 120_000);

  it('exports the log as CSV and JSON, to stdout or a file', async () => {
    const csv = ok('export csv', await cli(['lab', 'export-log', 'class-c']));
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe('time,port,usbSerial,identity,deviceId,student,buildHash,result,reason,seconds');
    const out = path.join(dataDir, 'log.json');
    const written = ok(
      'export json',
      await cli(['lab', 'export-log', 'class-c', '--format', 'json', '--out', out, '--json']),
    );
    const entries = JSON.parse(readFileSync(out, 'utf8')) as unknown[];
    expect(JSON.parse(written.stdout)).toEqual({ lab: 'Class C', format: 'json', entries: entries.length, file: out });
    expect(lines.filter((line) => line !== '')).toHaveLength(entries.length + 1);
  }, 60_000);
});
