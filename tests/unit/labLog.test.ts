// The station log as a teacher's file: CSV a spreadsheet opens without running anything, and JSON.
import { describe, expect, it } from 'vitest';
import type { LabLogEntry } from '../../electron/contract';
import { exportLabLog } from '../../electron/core/lab/labLog';

const entry = (patch: Partial<LabLogEntry>): LabLogEntry => ({
  time: '2026-12-05T09:00:00.000Z',
  port: '/dev/ttyACM0',
  identity: 'usb-serial',
  deviceId: 'lab3-01',
  result: 'online',
  seconds: 41.5,
  ...patch,
});

describe('exportLabLog', () => {
  it('writes a header and a CRLF row per entry, empty cells for what is missing', () => {
    const csv = exportLabLog('Lab 3', [entry({ usbSerial: '8503631', student: 'Ann', buildHash: 'abc123' })], 'csv');
    expect(csv).toEqual({
      lab: 'Lab 3',
      format: 'csv',
      entries: 1,
      content:
        'time,port,usbSerial,identity,deviceId,student,buildHash,result,reason,seconds\r\n' +
        '2026-12-05T09:00:00.000Z,/dev/ttyACM0,8503631,usb-serial,lab3-01,Ann,abc123,online,,41.5\r\n',
    });
  });

  it('quotes cells a spreadsheet would run as a formula, and cells with commas, quotes or line breaks', () => {
    const hostile = entry({
      student: '=HYPERLINK("http://x","click")',
      usbSerial: '+1+1',
      reason: '-2+3 failed, "really"\nsecond line',
      buildHash: '@SUM(A1)',
      port: '\t/dev/ttyACM1',
      result: 'failed',
      seconds: -1,
    });
    const row = exportLabLog('Lab 3', [hostile], 'csv').content.split('\r\n')[1]!;
    expect(row).toBe(
      [
        '2026-12-05T09:00:00.000Z',
        "'\t/dev/ttyACM1",
        "'+1+1",
        'usb-serial',
        'lab3-01',
        `"'=HYPERLINK(""http://x"",""click"")"`,
        "'@SUM(A1)",
        'failed',
        `"'-2+3 failed, ""really""\nsecond line"`,
        '-1', // a number is a number, not a formula
      ].join(','),
    );
  });

  it('exports JSON that reads back as the entries', () => {
    const entries = [entry({}), entry({ deviceId: 'lab3-02', result: 'silent', reason: 'no telemetry in 60 s' })];
    const json = exportLabLog('Lab 3', entries, 'json');
    expect([json.entries, JSON.parse(json.content)]).toEqual([2, entries]);
    expect(exportLabLog('Lab 3', [], 'csv').content).toBe(
      'time,port,usbSerial,identity,deviceId,student,buildHash,result,reason,seconds\r\n',
    );
  });
});
