// Flashing ESP32 / ESP8266 through esptool-js (Espressif's ROM loader protocol) over node serialport:
// flasher stub, compressed writes, MD5 verify and a hard reset, at the fastest speed that works. When
// the stub never starts (or on request) an ESP32 is flashed by its ROM loader alone: slower, same checks.
import { setTimeout as sleep } from 'node:timers/promises';
import { ESPLoader } from 'esptool-js';
import { MakerdeckError } from '../../../contract';
import { listRawPorts, type RawPortLister } from '../../serial/ports';
import { WebSerialPort, type PortOpener } from '../../serial/webSerialPort';
import {
  cancelled,
  explainEspError,
  isRefused,
  looksGarbled,
  noBootloaderAfterStub,
  SpeedFailed,
  STUB_FALLBACK_TEXT,
  StubFailed,
  unplugged,
  type EspWhere,
} from './espErrors';
import { checkFits, checkParts, type EspChip, type EspImagePart } from './espImage';
import { attachFlash, romVerifyPart, romWritePart } from './espRom';
import { bundledStub, startStub, type EspStub } from './espStub';
import { stubWritePart } from './espStubWrite';
import { GuardedTransport, logTerminal } from './espTransport';

export { espImageFromFile, type EspChip, type EspImagePart } from './espImage';
export { espStubFromJson, STUB_HELLO_MS, type EspStub } from './espStub';
export { STUB_FALLBACK_TEXT } from './espErrors';

export const DEFAULT_BAUDS = [921600, 460800, 115200];
const ROM_BAUD = 115200; // both ROM loaders start here; only the stub changes speed
const CONNECT_ATTEMPTS = 7; // esptool's default: alternating short and long reset pulses
const SETTLE_MS = 100; // between closing the port and opening it again for the next speed
const CHIP_DETECT_REG = 0x40001000;
const OP_SPI_SET_PARAMS = 0x0b;
const OP_CHANGE_BAUDRATE = 0x0f;
const CHIP_NAMES: Record<EspChip, string> = { esp32: 'ESP32', esp8266: 'ESP8266' };

export type EspPhase = 'connect' | 'write' | 'verify' | 'reset';

export interface EspProgress {
  phase: EspPhase;
  /** Image bytes (uncompressed) written so far, over all parts. */
  bytesDone: number;
  bytesTotal: number;
  baud?: number;
  /** Set once, when the flasher changes course (the stub did not start). */
  notice?: string;
}

export interface FlashEspOptions {
  port: string;
  chip: EspChip;
  parts: EspImagePart[];
  signal?: AbortSignal;
  onProgress?: (progress: EspProgress) => void;
  /** Speeds to try in order; a speed the link cannot carry falls through to the next. */
  bauds?: number[];
  /** Opens the node port (tests pass serialport's mock binding); openSerialPort otherwise. */
  openPort?: PortOpener;
  /** Lists ports for the USB ids esptool-js uses to pick its reset; listRawPorts otherwise. */
  listPorts?: RawPortLister;
  /** esptool-js's own progress lines, for the log. */
  log?: (line: string) => void;
  /** Flash with the ESP32 ROM's own loader, never uploading the flasher stub (slower). */
  noStub?: boolean;
  /** A flasher stub to upload instead of the one esptool-js ships (the tests give esptool 4.8.1's). */
  stub?: EspStub;
}

export interface FlashEspResult {
  /** As the chip describes itself, e.g. "ESP32-D0WD-V3 (revision 3)". */
  chip: string;
  mac?: string;
  /** The speed the image was written at. */
  baud: number;
  /** Faster speeds that were tried first and did not work. */
  failedBauds: number[];
  bytes: number;
  ms: number;
  /** False where the port has no DTR/RTS (a pty, some adapters): press RESET to start the new firmware. */
  hardReset: boolean;
  flashBytes?: number;
  /** Who wrote the flash: the flasher stub, or the ROM loader (asked for, or after the stub did not start). */
  loader: 'stub' | 'rom';
  /** True when the stub was tried and never started, so the ROM loader took over. */
  stubFailed: boolean;
}

interface Session extends FlashEspOptions {
  parts: EspImagePart[];
  baud: number;
  ids: { vendorId?: string; productId?: string };
  log: (line: string) => void;
  /** No stub this time: asked for, or it did not start in an earlier session. */
  romOnly: boolean;
  stubFailed: boolean;
}

/** `speedTried`: false when the ROM loader stayed at its own speed without trying the one asked for. */
type SessionResult = Omit<FlashEspResult, 'failedBauds' | 'ms' | 'stubFailed'> & { speedTried: boolean };

/** Flashes the parts and verifies each by MD5; throws one explained MakerdeckError otherwise. */
export async function flashEsp(options: FlashEspOptions): Promise<FlashEspResult> {
  const started = Date.now();
  const parts = checkParts(options.parts);
  const bauds = checkBauds(options.bauds ?? DEFAULT_BAUDS);
  if (options.noStub && options.chip === 'esp8266') throw esp8266RomCannotVerify();
  const log = options.log ?? (() => undefined);
  const ids = await usbIds(options.port, options.listPorts ?? listRawPorts);
  const failedBauds: number[] = [];
  let romOnly = options.noStub === true;
  let stubFailed = false;
  for (let index = 0; index < bauds.length;) {
    const baud = bauds[index]!;
    try {
      const { speedTried, ...done } = await flashOnce({ ...options, parts, baud, ids, log, romOnly, stubFailed });
      if (done.baud < baud && speedTried) failedBauds.push(baud);
      return { ...done, failedBauds, stubFailed, ms: Date.now() - started };
    } catch (error) {
      if (error instanceof StubFailed) {
        if (options.chip === 'esp8266') throw stubDidNotStart(options.port);
        [romOnly, stubFailed] = [true, true];
        announce(options, `${STUB_FALLBACK_TEXT} (${error.reason})`);
        await sleep(SETTLE_MS);
        continue; // the same speed again, with the ROM loader
      }
      const next = bauds[index + 1];
      if (!(error instanceof SpeedFailed)) throw error;
      if (next === undefined) throw explainEspError(error, { port: options.port, step: 'baud', baud });
      failedBauds.push(baud);
      log(`${baud} baud did not work on ${options.port}; trying ${next}`);
      await sleep(SETTLE_MS);
      index++;
    }
  }
  throw new MakerdeckError('BAD_INPUT', 'No speed to flash at: give at least one baud rate');
}

/** A change of course goes to the log and, as a message, to the progress. */
function announce(options: FlashEspOptions, line: string): void {
  options.log?.(line);
  const bytesTotal = options.parts.reduce((sum, part) => sum + part.data.length, 0);
  try {
    options.onProgress?.({ phase: 'connect', bytesDone: 0, bytesTotal, notice: STUB_FALLBACK_TEXT });
  } catch {
    // a broken progress listener must not break a flash
  }
}

const esp8266RomCannotVerify = (): MakerdeckError =>
  new MakerdeckError(
    'BAD_INPUT',
    "The ESP8266's ROM loader cannot verify what it wrote (it has no MD5 command): flash the ESP8266 with the stub (without --no-stub)",
  );

const stubDidNotStart = (port: string): MakerdeckError =>
  new MakerdeckError(
    'UNAVAILABLE',
    `The flasher stub did not start on ${port}, and the ESP8266's ROM loader cannot verify a flash: reset the board into download mode (hold BOOT, press EN/RESET) and try again`,
  );

/** One connection at one speed: every failure comes out explained, except a speed to fall back from. */
async function flashOnce(session: Session): Promise<SessionResult> {
  if (session.signal?.aborted) throw cancelled();
  const at: EspWhere = { port: session.port, step: 'open', baud: ROM_BAUD };
  const device = new WebSerialPort(session.port, { open: session.openPort, ...session.ids });
  const transport = new GuardedTransport(device, session.log);
  let stopped = false;
  const dispose = stopOn(device, session.signal, at, (reason) => {
    stopped = true;
    transport.halt(reason);
  });
  try {
    const loader = new ESPLoader({
      transport,
      baudrate: ROM_BAUD,
      romBaudrate: ROM_BAUD,
      terminal: logTerminal(session.log),
    });
    const work = runSteps(loader, device, session, at);
    work.catch(() => undefined); // when a stop wins, esptool-js's own chain fails later, unobserved
    return await Promise.race([work, transport.stopped]);
  } catch (error) {
    if (error instanceof SpeedFailed || error instanceof StubFailed) throw error;
    if (at.baud > ROM_BAUD && looksGarbled(error)) throw new SpeedFailed(at.baud);
    const explained = explainEspError(error, at);
    if (session.stubFailed && at.step === 'connect' && explained.code === 'UNAVAILABLE')
      throw noBootloaderAfterStub(session.port);
    throw explained;
  } finally {
    dispose();
    transport.halt();
    await shutDown(transport, device, stopped);
  }
}

async function runSteps(
  loader: ESPLoader,
  device: WebSerialPort,
  session: Session,
  at: EspWhere,
): Promise<SessionResult> {
  const total = session.parts.reduce((sum, part) => sum + part.data.length, 0);
  const report = (phase: EspPhase, bytesDone: number) => {
    try {
      session.onProgress?.({ phase, bytesDone, bytesTotal: total, baud: at.baud });
    } catch {
      // a broken progress listener must not break a flash half way
    }
  };
  report('connect', 0);
  at.step = 'connect';
  await loader.connect('default_reset', CONNECT_ATTEMPTS, true);
  at.step = 'identify';
  checkChip(loader.chip.CHIP_NAME, session.chip, session.port);
  const chip = await loader.chip.getChipDescription(loader);
  const mac = await loader.chip.readMac(loader);
  at.step = 'stub';
  if (session.romOnly)
    loader.IS_STUB = isStubAnswering(loader); // a stub left running by an earlier flash
  else await startStub(loader, session.stub ?? (await bundledStub(loader.chip.CHIP_NAME)));
  const stub = loader.IS_STUB;
  if (!stub) session.log("Flashing with the ROM's own loader: 1 KB uncompressed blocks, MD5 by the ROM");
  at.step = 'baud';
  const speedTried = session.baud !== ROM_BAUD && (stub || device.modemLines !== false);
  if (speedTried) at.baud = await switchBaud(loader, device, session.baud, session.log);
  else if (session.baud !== ROM_BAUD) session.log(ROM_STAYS_SLOW);
  at.step = 'flash-id';
  if (!stub) await attachFlash(loader); // the ROM reaches the flash only once told to; the stub attaches itself
  const flashBytes = await readFlashSize(loader, session.chip, session.port);
  checkFits(session.parts, flashBytes, session.port);
  at.step = 'write';
  report('write', 0);
  const track = trackWrite(session.parts, at, report);
  if (stub) await stubWrite(loader, session.parts, track);
  else await romWrite(loader, session.parts, track, session.log);
  at.step = 'reset';
  const hardReset = await resetIntoApp(device);
  report('reset', total);
  return { chip, mac, baud: at.baud, bytes: total, hardReset, flashBytes, loader: stub ? 'stub' : 'rom', speedTried };
}

// A ROM that did not follow a speed change keeps the old divisor (the emulated one hangs): only a reset
// brings it back, and a port without DTR/RTS cannot reset it.
const ROM_STAYS_SLOW = `No DTR/RTS on this port to reset the chip should a speed change fail: the ROM loader stays at ${ROM_BAUD} baud`;
const ROM_RESUMES = 8; // per part: a garbled block now and then is noise, one every few blocks is a bad link
const SECTOR_BYTES = 0x1000;

type WriteTracker = ReturnType<typeof trackWrite>;

/** Through the stub: compressed 16 KB blocks, MD5 of each part by the stub. */
async function stubWrite(loader: ESPLoader, parts: EspImagePart[], track: WriteTracker): Promise<void> {
  for (const [index, part] of parts.entries())
    await stubWritePart(loader, part, (written) => track(index, written, part.data.length));
}

/** Through the ROM: 1 KB blocks, each part checked by the ROM's MD5 right after its last block. */
async function romWrite(loader: ESPLoader, parts: EspImagePart[], track: WriteTracker, log: Log): Promise<void> {
  for (const [index, part] of parts.entries()) {
    let from = 0; // bytes of the part the ROM has taken, from a 4 KB sector boundary (FLASH_BEGIN erases sectors)
    for (let resumes = 0; ; resumes++) {
      let taken = from;
      const rest = { address: part.address + from, data: part.data.subarray(from) };
      try {
        await romWritePart(loader, rest, (written) => track(index, (taken = from + written), part.data.length));
        break;
      } catch (error) {
        // A block the ROM refused (a garbled byte: bad checksum) spoils what follows: resume at its sector.
        if (resumes === ROM_RESUMES || !isRefusedBlock(error)) throw error;
        from = Math.floor(taken / SECTOR_BYTES) * SECTOR_BYTES;
        log(
          `The ROM refused a block (${(error as Error).message}); resuming at 0x${(part.address + from).toString(16)}`,
        );
      }
    }
    if (!(await romVerifyPart(loader, part))) throw new Error('MD5 of file does not match data in flash!');
  }
}

type Log = (line: string) => void;

/** The ROM answered a flash block with a failure status (rather than not at all, or a stop). */
function isRefusedBlock(error: unknown): boolean {
  return error instanceof Error && /write to target Flash after seq \d+ failed with status/.test(error.message);
}

function isStubAnswering(loader: ESPLoader): boolean {
  return (loader as unknown as { syncStubDetected: boolean }).syncStubDetected === true;
}

/** Writers report image bytes written per part; the UI wants them over all parts. */
function trackWrite(parts: EspImagePart[], at: EspWhere, report: (phase: EspPhase, done: number) => void) {
  const total = parts.reduce((sum, part) => sum + part.data.length, 0);
  const starts = parts.map((_, index) => parts.slice(0, index).reduce((sum, part) => sum + part.data.length, 0));
  return (index: number, written: number, partBytes: number) => {
    const part = parts[index];
    if (!part) return;
    const fraction = partBytes > 0 ? Math.min(1, written / partBytes) : 1;
    const partDone = Math.round(part.data.length * fraction);
    const done = (starts[index] ?? 0) + partDone;
    // esptool-js checks the MD5 of a part right after its last block.
    at.step = fraction >= 1 ? 'verify' : 'write';
    at.address = fraction >= 1 ? part.address : part.address + partDone;
    at.percent = Math.floor((done * 100) / total);
    report(at.step === 'verify' ? 'verify' : 'write', done);
  };
}

function checkChip(found: string, wanted: EspChip, port: string): void {
  if (found === CHIP_NAMES[wanted]) return;
  throw new MakerdeckError(
    'BAD_INPUT',
    `The board on ${port} is an ${found}, not an ${CHIP_NAMES[wanted]}: pick the ${found} board (or the right port) and flash again`,
  );
}

/** Asks the stub for `baud`, follows on the host side, and checks the chip still answers. */
async function switchBaud(
  loader: ESPLoader,
  device: WebSerialPort,
  baud: number,
  log: (line: string) => void,
): Promise<number> {
  try {
    // The stub wants the old speed as the second word; the ROM wants 0 there.
    await loader.checkCommand('change baud rate', OP_CHANGE_BAUDRATE, words(baud, loader.IS_STUB ? ROM_BAUD : 0));
  } catch (error) {
    if (!isRefused(error)) throw error;
    log(`The ${loader.IS_STUB ? 'stub' : 'ROM'} refused ${baud} baud; staying at ${ROM_BAUD}`);
    return ROM_BAUD;
  }
  await sleep(50); // the stub answers at the old speed, then switches
  try {
    await device.setBaudRate(baud);
  } catch {
    throw new SpeedFailed(baud);
  }
  loader.transport.baudrate = baud;
  await loader.transport.drainInput();
  if (!(await stillAnswers(loader))) throw new SpeedFailed(baud);
  return baud;
}

async function stillAnswers(loader: ESPLoader): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await loader.readReg(CHIP_DETECT_REG, 500);
      return true;
    } catch (error) {
      if (error instanceof MakerdeckError) throw error; // cancelled or unplugged meanwhile
      loader.transport.flushInput();
    }
  }
  return false;
}

/**
 * What esptool does before writing: read the flash chip's ID and tell the stub its size. (No
 * SPI_ATTACH: the stub attaches the flash itself, and a default attach would be wrong for modules
 * whose flash sits on other pins.)
 */
async function readFlashSize(loader: ESPLoader, chip: EspChip, port: string): Promise<number | undefined> {
  // esptool-js 0.7 gives the ESP8266 SPI data-length offsets of 0 where esptool has none, so its
  // flash-ID read takes the ESP32 register path and never sets the read length; esptool's value selects the right one.
  if (chip === 'esp8266') Object.assign(loader.chip, { SPI_MOSI_DLEN_OFFS: undefined, SPI_MISO_DLEN_OFFS: undefined });
  const id = (await loader.readFlashId()) & 0xffffff;
  if (id === 0 || id === 0xffffff) {
    throw new MakerdeckError(
      'UNAVAILABLE',
      `The ESP on ${port} answered but its flash chip did not (ID 0x${id.toString(16)}): check the module's power and flash wiring, then try again`,
    );
  }
  const bytes = flashSizeFromId(id);
  if (bytes)
    await loader.checkCommand('set SPI params', OP_SPI_SET_PARAMS, words(0, bytes, 0x10000, 0x1000, 0x100, 0xffff));
  return bytes;
}

/** JEDEC capacity byte to bytes, as esptool's table: 0x12–0x1c and 0x32–0x3a are 2^n, 0x20–0x22 are 64–256 MB. */
export function flashSizeFromId(id: number): number | undefined {
  const code = (id >> 16) & 0xff;
  if (code >= 0x12 && code <= 0x1c) return 2 ** code;
  if (code >= 0x32 && code <= 0x3a) return 2 ** (code - 0x20);
  if (code >= 0x20 && code <= 0x22) return 2 ** (code - 0x06);
  return undefined;
}

/** EN low, then released with IO0 high: the chip boots the new firmware (esptool's "hard reset via RTS"). */
async function resetIntoApp(device: WebSerialPort): Promise<boolean> {
  await device.setSignals({ dataTerminalReady: false, requestToSend: true });
  if (device.modemLines === false) return false; // no lines (a pty): nothing to pulse
  await sleep(100);
  await device.setSignals({ dataTerminalReady: false, requestToSend: false });
  return true;
}

/** Calls `halt` on cancel or unplug; returns the function that stops listening. */
function stopOn(
  device: WebSerialPort,
  signal: AbortSignal | undefined,
  at: EspWhere,
  halt: (reason: MakerdeckError) => void,
): () => void {
  const onAbort = () => halt(cancelled());
  signal?.addEventListener('abort', onAbort, { once: true });
  void device.lost.then(() => halt(unplugged(at)));
  return () => signal?.removeEventListener('abort', onAbort);
}

/**
 * Always leaves the port closed, even when esptool-js's disconnect waits on a stream that never unlocks.
 * After a cancel or unplug the port closes at once: disconnect would first wait for the write in
 * flight to drain (a 16 KB stub block takes 1.4 s at 115200), and the cancel would answer that late.
 */
async function shutDown(transport: GuardedTransport, device: WebSerialPort, stopped: boolean): Promise<void> {
  if (!stopped) await Promise.race([transport.disconnect().catch(() => undefined), sleep(1500)]);
  await device.close().catch(() => undefined);
}

async function usbIds(port: string, lister: RawPortLister): Promise<Session['ids']> {
  try {
    const found = (await lister()).find((candidate) => candidate.path === port);
    return { vendorId: found?.vendorId, productId: found?.productId };
  } catch {
    return {};
  }
}

function checkBauds(bauds: number[]): number[] {
  if (bauds.length === 0 || bauds.some((baud) => !Number.isInteger(baud) || baud <= 0)) {
    throw new MakerdeckError(
      'BAD_INPUT',
      `Baud rates must be positive whole numbers, got [${bauds.join(', ')}]: use e.g. 921600, 460800, 115200`,
    );
  }
  return bauds;
}

function words(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => view.setUint32(index * 4, value >>> 0, true));
  return bytes;
}
