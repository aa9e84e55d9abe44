// The flash station on emulated Unos (simavr running the real optiboot) plugged into a stand-in USB
// hub (MAKERDECK_SYSFS_ROOT): boards plugged one after another and at once each get their own seat and
// id, are released and flashed (one compile, real arduino-cli), and count as online only when a
// stand-in online checker has read their own `telemetry,device=<id>` line on their port. Unplugs,
// clones without (or sharing) a serial number, a wrong board type, a silent bootloader and a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabLogEntry, LabView, StationPortView, StationView } from '../../electron/contract';
import { createHost, type Host } from '../../electron/core/host';
import type { OnlineChecker, OnlineWait } from '../../electron/core/lab/onlineCheck';
import { closePort, openSerialPort } from '../../electron/core/serial/openPort';
import { requiredEnv } from '../support/env';
import { scratchEnv } from '../support/scratchEnv';
import { UsbHub } from '../support/usbHub';
import { silentPty } from '../support/uno';
import { attachedBroker, callHost, until } from '../support/wait';

/**
 * Stand-in for the real OnlineChecker (built elsewhere): opens the board's port with Makerdeck's own
 * serial code and says 'online' only once it has read the board's `telemetry,device=<id>` line there.
 */
class SerialTelemetryStandIn implements OnlineChecker {
  /** The telemetry line each device id was seen with, and on which port. */
  readonly seen = new Map<string, { port: string; line: string }>();

  async wait({ deviceId, port, timeoutMs, signal, onWait }: OnlineWait): Promise<'online' | 'silent'> {
    const serial = await openSerialPort(port, 115200);
    onWait(`stand-in: reading ${port} for ${deviceId}'s telemetry`);
    try {
      return await new Promise<'online' | 'silent'>((resolve, reject) => {
        let partial = '';
        const timer = setTimeout(() => resolve('silent'), timeoutMs);
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        serial.on('error', reject);
        serial.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString('latin1')).split('\n');
          partial = lines.pop()!.slice(-4096);
          const line = lines.map((l) => l.trim()).find((l) => l.startsWith(`telemetry,device=${deviceId} `));
          if (!line) return;
          this.seen.set(deviceId, { port, line });
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve('online');
        });
      });
    } finally {
      await closePort(serial);
    }
  }

  async close(): Promise<void> {}
}

let scratch: string;
let env: NodeJS.ProcessEnv;
let hub: UsbHub;
let host: Host;
const checker = new SerialTelemetryStandIn();
const views: StationView[] = [];
let labSeq = 0;

function newHost(): Host {
  const made = createHost({ kind: 'cli', quiet: true, env: { ...process.env, ...env }, onlineChecker: checker });
  made.bus.on('lab.station', (view) => views.push(view));
  return made;
}

/** A new lab with its station started (the last one's stopped: one station takes every board plugged in). */
async function newLab(seats = 6): Promise<LabView> {
  if (labSeq > 0) await callHost(host, 'lab.stationStop', { lab: `station-${labSeq}` });
  const name = `Station ${++labSeq}`;
  const lab = await callHost<LabView>(host, 'lab.create', {
    name,
    board: 'arduino:avr:uno',
    template: 'lab-template',
    idPattern: `st${labSeq}-{nn}`,
    seats,
  });
  await callHost(host, 'lab.stationStart', { lab: lab.id, parallel: 2, onlineTimeoutS: 30 });
  return lab;
}

const lab = (id: string, on = host) => callHost<LabView>(on, 'lab.get', { lab: id });
const station = (id: string, on = host) => callHost<StationView>(on, 'lab.stationStatus', { lab: id });
const portView = async (id: string, port: string): Promise<StationPortView | undefined> =>
  (await station(id)).ports.find((p) => p.port === port);

/** Waits until the seat of the board on `port` has a result, and returns it. */
async function result(labId: string, port: string, ms = 180_000): Promise<StationPortView> {
  return until(
    `a result on ${port}`,
    async () => {
      const view = await portView(labId, port);
      return view && ['online', 'silent', 'failed', 'unplugged'].includes(view.phase) ? view : undefined;
    },
    ms,
    100,
  );
}

beforeAll(async () => {
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-station-'));
  hub = new UsbHub(path.join(scratch, 'sys'));
  env = { ...scratchEnv(scratch), MAKERDECK_SYSFS_ROOT: hub.root };
  host = newHost();
  // An attached broker: boards get the template's login (the local stack's device users are tested elsewhere).
  await callHost(host, 'environment.set', attachedBroker('mqtt://127.0.0.1:9'));
  const fields = { name: 'Lab template', board: 'arduino:avr:uno', wifiSsid: 'lab', mqttHost: '192.0.2.10' };
  await callHost(host, 'profiles.save', { fields: { ...fields, deviceId: 'template', telemetryIntervalS: 1 } });
}, 60_000);

afterAll(async () => {
  host?.station.shutdown();
  await hub?.stopAll();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the flash station (emulated Unos on a stand-in USB hub, stand-in online checker)', () => {
  let first: LabView;

  it('boards plugged one after another and two at once each get their own id (stand-in online check)', async () => {
    first = await newLab();
    const a = await hub.plugUno(0, { serial: 'UNO-A' }, scratch);
    expect(await result(first.id, a.port)).toMatchObject({ phase: 'online', deviceId: 'st1-01' });
    const [b, c] = await Promise.all([
      hub.plugUno(1, { serial: 'UNO-B' }, scratch),
      hub.plugUno(2, { serial: 'UNO-C' }, scratch),
    ]);
    const both = await Promise.all([result(first.id, b.port), result(first.id, c.port)]);
    expect(both.map((p) => p.phase)).toEqual(['online', 'online']);
    expect(new Set(both.map((p) => p.deviceId))).toEqual(new Set(['st1-02', 'st1-03']));

    const seats = (await lab(first.id)).seats.slice(0, 3);
    expect(seats.map((s) => [s.state, s.identity?.kind])).toEqual(Array(3).fill(['online', 'usb-serial']));
    for (const seat of seats) {
      expect(checker.seen.get(seat.deviceId)).toEqual({ port: seat.port, line: expect.stringMatching(/ seq=/) });
      expect(seat.identity?.key).toBe(`usb:2341:0043:${seat.identity?.usbSerial}`);
    }
    const log = await callHost<LabLogEntry[]>(host, 'lab.log', { lab: first.id });
    expect(log).toHaveLength(3);
    expect(log.every((e) => e.result === 'online' && /^[0-9a-f]{16}$/.test(e.buildHash ?? ''))).toBe(true);
    expect(log.map((e) => e.usbSerial).sort()).toEqual(['UNO-A', 'UNO-B', 'UNO-C']);
    // The write's progress reached the view (phase write with bytes) before the result.
    expect(views.some((v) => v.ports.some((p) => p.phase === 'write' && (p.bytesDone ?? 0) > 0))).toBe(true);
  }, 400_000);

  it('a board plugged in again (on another port) keeps its id', async () => {
    const before = (await lab(first.id)).seats.find((s) => s.identity?.usbSerial === 'UNO-B')!;
    hub.unplug(1);
    await until('the unplug seen', async () => (await portView(first.id, hub.portOf(1)))?.phase === 'unplugged');
    const port = hub.plug(5, hub.unoIn(1).device, { serial: 'UNO-B' });
    expect(await result(first.id, port)).toMatchObject({ phase: 'online', deviceId: before.deviceId });
    const after = (await lab(first.id)).seats.find((s) => s.deviceId === before.deviceId)!;
    expect(after).toMatchObject({ state: 'online', port, identity: before.identity });
    expect((await lab(first.id)).seats.filter((s) => s.identity).length).toBe(3);
  }, 240_000);

  it('a board unplugged mid-write fails alone; the one plugged with it finishes', async () => {
    const [d, e] = await Promise.all([
      hub.plugUno(3, { serial: 'UNO-D' }, scratch),
      hub.plugUno(4, { serial: 'UNO-E' }, scratch),
    ]);
    await until(
      'the write under way on ttyACM3',
      async () => {
        const view = await portView(first.id, d.port);
        return view?.phase === 'write' && (view.bytesDone ?? 0) > 0;
      },
      180_000,
      20,
    );
    await hub.removeUno(3); // pulled out: the tty goes and the board with it
    const gone = await result(first.id, d.port);
    expect(gone).toMatchObject({
      phase: 'unplugged',
      reason: expect.stringMatching(/^unplugged during the write: plug it in again$/),
    });
    expect(await result(first.id, e.port)).toMatchObject({ phase: 'online' });
    const seat = (await lab(first.id)).seats.find((s) => s.identity?.usbSerial === 'UNO-D')!;
    expect(seat).toMatchObject({ state: 'failed', reason: gone.reason });
    const log = await callHost<LabLogEntry[]>(host, 'lab.log', { lab: first.id });
    expect(log.find((l) => l.usbSerial === 'UNO-D')).toMatchObject({ result: 'failed', reason: gone.reason });
    await hub.stopAll();
  }, 300_000);

  it('clones without a serial number, or sharing one, are told apart by port and plug order, and say so', async () => {
    const clones = await newLab();
    const plugged = await Promise.all([
      hub.plugUno(6, {}, scratch),
      hub.plugUno(7, { serial: 'DUP' }, scratch),
      hub.plugUno(8, { serial: 'DUP' }, scratch),
    ]);
    const results = await Promise.all(plugged.map((p) => result(clones.id, p.port, 300_000)));
    expect(results.map((r) => r.phase)).toEqual(['online', 'online', 'online']);
    expect(new Set(results.map((r) => r.deviceId)).size).toBe(3);
    expect(results.map((r) => r.identity?.kind)).toEqual(['port-order', 'port-order', 'port-order']);
    for (const r of results) expect(r.identity?.key).toMatch(new RegExp(`^port:${r.port}#\\d+$`));
    const { notices } = await station(clones.id);
    expect(notices).toContain(
      `${hub.portOf(6)} has no USB serial number: told apart by port and plug order (plugged in again, it gets a new seat)`,
    );
    expect(notices).toContain(
      '2 boards share USB serial DUP: told apart by port and plug order (plugged in again, it gets a new seat)',
    );
    for (const r of results) expect(checker.seen.get(r.deviceId!)?.port).toBe(r.port);
    // Three boards, two slots: never more than two flashed at once, and one waited for a slot.
    const mine = views.filter((v) => v.lab === clones.id);
    const busy = mine.map((v) => v.ports.filter((p) => ['release', 'write', 'boot'].includes(p.phase)).length);
    expect(Math.max(...busy)).toBe(2);
    expect(mine.some((v) => v.ports.some((p) => p.message === 'waiting for a free slot'))).toBe(true);
    for (const slot of [6, 7, 8]) await hub.removeUno(slot);
  }, 400_000);

  it('a wrong board type is refused on its port without a seat; a silent bootloader fails its seat', async () => {
    const wrong = await newLab();
    const esp = await silentPty();
    const quiet = await silentPty();
    try {
      const espPort = hub.plug(10, esp.path, { vendorId: '303a', productId: '1001', serial: 'ESP-1' });
      const refused = await result(wrong.id, espPort);
      expect(refused).toMatchObject({ phase: 'failed' });
      expect(refused.reason).toBe(
        `${espPort} is an Espressif native USB (ESP32-S3/C3/C6 USB-Serial/JTAG) (USB 303a:1001), not an Arduino Uno: ` +
          'this lab flashes Arduino Uno boards, so unplug it (or make a lab for its board type)',
      );
      expect((await lab(wrong.id)).seats.every((s) => s.state === 'free' && !s.identity)).toBe(true);

      const quietPort = hub.plug(11, quiet.path, { serial: 'NO-BOOT' });
      const failed = await result(wrong.id, quietPort);
      expect(failed).toMatchObject({ phase: 'failed', deviceId: `st${labSeq}-01` });
      expect(failed.reason).toMatch(
        new RegExp(`^no Arduino Uno bootloader answered on ${quietPort}: is it an Arduino Uno\\? Check the board`),
      );
      const seat = (await lab(wrong.id)).seats[0]!;
      expect(seat).toMatchObject({ state: 'failed', reason: failed.reason, identity: { usbSerial: 'NO-BOOT' } });
      // Retried, it fails the same way and keeps its seat.
      await callHost(host, 'lab.retry', { lab: wrong.id, deviceId: seat.deviceId });
      await until(
        'the retry under way',
        async () => !['failed'].includes((await portView(wrong.id, quietPort))!.phase),
        10_000,
        20,
      );
      expect(await result(wrong.id, quietPort)).toMatchObject({ phase: 'failed', deviceId: seat.deviceId });
      expect((await callHost<LabLogEntry[]>(host, 'lab.log', { lab: wrong.id })).map((l) => l.result)).toEqual([
        'failed',
        'failed',
      ]);
    } finally {
      hub.unplug(10);
      hub.unplug(11);
      esp.stop();
      quiet.stop();
    }
  }, 120_000);

  it('a restart (a new host on the same data folder) resumes with the state intact', async () => {
    const resumed = await newLab();
    const kept = await hub.plugUno(12, { serial: 'UNO-K' }, scratch);
    expect(await result(resumed.id, kept.port)).toMatchObject({ phase: 'online' });
    const lost = await hub.plugUno(13, { serial: 'UNO-L' }, scratch);
    await until(
      'the second board being written',
      async () => (await portView(resumed.id, lost.port))?.phase === 'write',
      180_000,
      20,
    );
    // Makerdeck goes away mid-write (its stations abandoned as they are), and the board with it.
    host.station.shutdown();
    await hub.removeUno(13);
    const left = await lab(resumed.id);
    expect(left.stationRunning).toBe(true);
    expect(left.seats.find((s) => s.identity?.usbSerial === 'UNO-L')?.state).toBe('flashing');

    host = newHost();
    // Only the station started last resumes (one station takes every board plugged in).
    const views = await host.station.resume();
    expect(views).toEqual([expect.objectContaining({ lab: resumed.id, running: true, parallel: 2 })]);
    const after = await lab(resumed.id);
    const keptSeat = after.seats.find((s) => s.identity?.usbSerial === 'UNO-K')!;
    expect(keptSeat).toEqual(left.seats.find((s) => s.identity?.usbSerial === 'UNO-K'));
    expect(after.seats.find((s) => s.identity?.usbSerial === 'UNO-L')).toMatchObject({
      state: 'failed',
      reason: 'interrupted by a restart of Makerdeck: plug it in again',
    });
    // The board still plugged in is shown as it was, not flashed again.
    expect(await result(resumed.id, kept.port)).toMatchObject({ phase: 'online', deviceId: keptSeat.deviceId });
    expect((await callHost<LabLogEntry[]>(host, 'lab.log', { lab: resumed.id })).map((l) => l.result)).toEqual([
      'online',
      'failed',
    ]);
    await hub.removeUno(12);
  }, 400_000);
});
