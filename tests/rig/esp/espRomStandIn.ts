// A stand-in for the ESP32 / ESP8266 ROM serial bootloader and for esptool's flasher stub once it is
// "uploaded", following Espressif's published serial protocol: SLIP frames, an 8-byte command header
// (0x00, op, length, checksum) and replies (0x01, op, length, value, data + status bytes). It keeps
// an in-memory NOR flash (erase to 0xFF, programming only clears bits) and models the board around
// the chip: the DTR/RTS auto-reset circuit, the UART speed (bytes at a speed the two ends do not
// share arrive garbled), and faults to switch on. It runs no Xtensa code: a MEM_END whose entry lies
// in the uploaded RAM makes it answer as the stub ("OHAI"). It is not a real ESP.
import { createHash } from 'node:crypto';
import { constants, inflateSync } from 'node:zlib';
import { SlipDecoder, slipEncode } from './slip';
import { CHIPS, jedecId, OP, OP_NAMES, parseMac, type ChipModel, type StandInChip } from './standInChips';

export type { StandInChip } from './standInChips';

/** When a fault fires: after this many command packets, or after this many flash data blocks. */
export type Trigger = { packets: number } | { writeBlocks: number };

export interface StandInFaults {
  /** Stop answering (a hung chip) until the next reset or power cycle. */
  stall?: Trigger;
  /** Pull the cable: the wire closes the port from the device side. */
  unplug?: Trigger;
  /** A flash cell that will not program: the MD5 the chip computes differs from the host's. */
  wrongMd5?: boolean;
  /** Opcodes answered as unknown (the ROM's "invalid message", the stub's "invalid command"). */
  unsupported?: number[];
  /** Speeds the stub accepts with CHANGE_BAUDRATE but the link then garbles. */
  refuseBauds?: number[];
  /** The uploaded stub hangs without its hello: the chip answers nothing until it is reset. */
  silentStub?: boolean;
  /**
   * The ROM sees a garbled byte in its Nth FLASH_DATA block (bad checksum), then refuses every block until
   * the next FLASH_BEGIN, as the emulated ESP32 ROM does under load.
   */
  garbleRomBlock?: number;
}

export interface StandInOptions {
  chip: StandInChip;
  mac?: string;
  flashBytes?: number;
  /** The board's DTR/RTS transistor pair that lets the host reset it into the bootloader (default true). */
  autoReset?: boolean;
  /** A port without modem lines (a pty): opening it counts as the operator holding BOOT and pressing RESET. */
  resetOnOpen?: boolean;
  faults?: StandInFaults;
}

/** How the stand-in reaches the host: the mock binding in-process, or a pseudo-terminal relay. */
export interface StandInWire {
  send(bytes: Uint8Array): void;
  unplug(): void;
}

export type StandInState = 'off' | 'reset' | 'app' | 'rom' | 'stub';

export interface StubUpload {
  segments: Array<{ address: number; bytes: number }>;
  entry: number;
}

interface WriteSession {
  offset: number;
  size: number;
  nextSeq: number;
  written: number;
  compressed?: Buffer[];
}

interface FlashRead {
  data: Uint8Array;
  sent: number;
  acked: number;
  packet: number;
  inFlight: number;
}

const ROM_BAUD = 115200;
const SECTOR = 0x1000;
const CHECKSUM_SEED = 0xef;
const SPI_CMD_USR = 1 << 18;
const EMPTY = new Uint8Array(0);
const ROM_ERR = { invalid: 0x05, checksum: 0x07, flashWrite: 0x08, deflate: 0x0b };
const STUB_ERR = { badLength: 0xc0, checksum: 0xc1, invalid: 0xc3, spi: 0xc4, notInFlashMode: 0xc6, inflate: 0xc7, notEnough: 0xc8, tooMuch: 0xc9 };

export class EspRomStandIn {
  readonly flash: Uint8Array;
  faults: StandInFaults;
  state: StandInState = 'app';
  /** Everything the host asked, by opcode name, in order. */
  readonly commands: string[] = [];
  readonly stubUploads: StubUpload[] = [];
  readonly boots: Array<'download' | 'app'> = [];
  readonly baudChanges: number[] = [];
  /** Every FLASH_BEGIN / FLASH_DEFL_BEGIN: by whom, how many argument words, the block size announced. */
  readonly flashBegins: Array<{ by: 'rom' | 'stub'; words: number; blockSize: number }> = [];
  /** Every DTR/RTS state the port was set to, as the OS passed it on. */
  readonly lineLog: Array<{ dtr: boolean; rts: boolean }> = [];

  private readonly chip: ChipModel;
  private readonly mac: number[];
  private readonly decoder = new SlipDecoder();
  private wire: StandInWire | undefined;
  private registers = new Map<number, number>();
  private lines = { dtr: false, rts: false };
  private hostBaud = ROM_BAUD;
  private uartBaud = ROM_BAUD;
  private linkBroken = false;
  private stalled = false;
  private counted = { packets: 0, writeBlocks: 0 };
  private ram: Array<{ address: number; data: number[]; expected: number }> = [];
  private write: WriteSession | undefined;
  private romBlocks = 0;
  private writeSpoiled = false;
  private reading: FlashRead | undefined;

  constructor(private readonly options: StandInOptions) {
    this.chip = CHIPS[options.chip];
    this.mac = parseMac(options.mac ?? (options.chip === 'esp32' ? '24:0a:c4:5a:1e:77' : '5c:cf:7f:0e:2b:91'));
    this.flash = new Uint8Array(options.flashBytes ?? 4 * 1024 * 1024).fill(0xff);
    this.faults = options.faults ?? {};
    this.registers = this.chip.registers(this.mac);
  }

  get macAddress(): string {
    return this.mac.map((byte) => byte.toString(16).padStart(2, '0')).join(':');
  }

  attach(wire: StandInWire): void {
    this.wire = wire;
  }

  setFaults(faults: StandInFaults): void {
    this.faults = faults;
    this.counted = { packets: 0, writeBlocks: 0 };
  }

  count(op: keyof typeof OP): number {
    return this.commands.filter((name) => name === op).length;
  }

  // ---- the board: power, reset lines, the port being opened -------------------------------------

  /** Power on (plugging the cable in): the chip boots its firmware, since nothing holds IO0 low. */
  powerOn(): void {
    this.boot('app');
  }

  powerOff(): void {
    this.state = 'off';
    this.write = undefined;
    this.reading = undefined;
  }

  /** Pulls the cable now; the wire closes the host's port. */
  unplug(): void {
    this.powerOff();
    setImmediate(() => this.wire?.unplug());
  }

  /** The operator holds BOOT and taps EN/RESET: download mode without the auto-reset circuit. */
  pressBootAndReset(): void {
    if (this.state !== 'off') this.boot('download');
  }

  portOpened(): void {
    this.setLines(true, true); // Linux raises DTR and RTS on open: with the transistor pair that changes nothing
    if (this.options.resetOnOpen && this.state !== 'off') this.boot('download');
  }

  portClosed(): void {
    this.setLines(false, false);
  }

  /** The classic auto-reset circuit: EN is low while RTS is asserted without DTR, IO0 low while DTR is without RTS. */
  setLines(dtr: boolean, rts: boolean): void {
    const wasInReset = this.lines.rts && !this.lines.dtr;
    this.lines = { dtr, rts };
    this.lineLog.push({ dtr, rts });
    if (this.options.autoReset === false || this.state === 'off') return;
    const inReset = rts && !dtr;
    if (inReset && !wasInReset) this.enterReset();
    else if (!inReset && wasInReset) this.boot(dtr && !rts ? 'download' : 'app');
  }

  private enterReset(): void {
    this.state = 'reset';
    this.write = undefined;
    this.reading = undefined;
  }

  private boot(mode: 'download' | 'app'): void {
    this.state = mode === 'download' ? 'rom' : 'app';
    this.boots.push(mode);
    this.uartBaud = ROM_BAUD;
    this.linkBroken = false;
    this.stalled = false;
    this.ram = [];
    this.write = undefined;
    this.reading = undefined;
    this.decoder.reset();
    this.registers = this.chip.registers(this.mac);
    this.printBootText(mode);
  }

  private printBootText(mode: 'download' | 'app'): void {
    const text =
      mode === 'download'
        ? 'ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n'
        : 'ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nstand-in firmware running\r\n';
    this.uartBaud = this.chip.bootTextBaud;
    this.emit(new TextEncoder().encode(text));
    this.uartBaud = ROM_BAUD;
  }

  // ---- the UART -----------------------------------------------------------------------------------

  /** Bytes from the host, sent at `hostBaud`. */
  receive(bytes: Uint8Array, hostBaud: number): void {
    this.hostBaud = hostBaud;
    if (this.state !== 'rom' && this.state !== 'stub') return;
    if (!this.linkOk()) {
      this.decoder.reset(); // framing errors: nothing of it makes a packet
      return;
    }
    for (const frame of this.decoder.push(bytes)) this.onFrame(frame);
  }

  setHostBaud(baud: number): void {
    this.hostBaud = baud;
  }

  private linkOk(): boolean {
    return !this.linkBroken && this.hostBaud === this.uartBaud;
  }

  private emit(bytes: Uint8Array): void {
    if (this.state === 'off') return;
    this.wire?.send(this.linkOk() ? bytes : garble(bytes));
  }

  // ---- packets ------------------------------------------------------------------------------------

  private onFrame(frame: Uint8Array): void {
    if (this.reading) return this.onReadAck(frame);
    if (frame.length < 8 || frame[0] !== 0x00) return; // not a request: the ROM ignores it
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const op = frame[1]!;
    const data = frame.subarray(8);
    this.commands.push(OP_NAMES.get(op) ?? `0x${op.toString(16)}`);
    if (this.firesFault(op)) return;
    if (this.stalled) return;
    this.counted.packets++;
    if (view.getUint16(2, true) !== data.length) return this.refuse(op, this.isStub ? STUB_ERR.badLength : ROM_ERR.invalid);
    if (!this.supports(op)) return this.unknown(op);
    this.handle(op, data, view.getUint32(4, true));
  }

  /** Checked before a packet is handled, so a fault lands on the packet that crosses the line. */
  private firesFault(op: number): boolean {
    const isBlock = op === OP.FLASH_DATA || op === OP.FLASH_DEFL_DATA;
    const crossed = (trigger: Trigger | undefined) =>
      trigger !== undefined && ('packets' in trigger ? this.counted.packets >= trigger.packets : isBlock && this.counted.writeBlocks >= trigger.writeBlocks);
    if (crossed(this.faults.unplug)) {
      this.faults = { ...this.faults, unplug: undefined };
      this.unplug();
      return true;
    }
    if (crossed(this.faults.stall)) {
      this.faults = { ...this.faults, stall: undefined };
      this.stalled = true;
    }
    return false;
  }

  private get isStub(): boolean {
    return this.state === 'stub';
  }

  private supports(op: number): boolean {
    if (this.faults.unsupported?.includes(op)) return false;
    if (op === OP.GET_SECURITY_INFO) return false; // neither ESP32 nor ESP8266 has it
    if (this.isStub) return op !== OP.RUN_USER_CODE || this.options.chip === 'esp8266';
    const common: number[] = [OP.SYNC, OP.READ_REG, OP.WRITE_REG, OP.MEM_BEGIN, OP.MEM_DATA, OP.MEM_END, OP.FLASH_BEGIN, OP.FLASH_DATA, OP.FLASH_END];
    return common.includes(op) || this.chip.romExtras.includes(op);
  }

  private handle(op: number, data: Uint8Array, checksum: number): void {
    const words = (count: number) => readWords(data, count);
    switch (op) {
      case OP.SYNC:
        return this.sync(data);
      case OP.READ_REG:
        return this.reply(op, this.registers.get(words(1)[0]!) ?? 0);
      case OP.WRITE_REG:
        return this.writeRegs(op, data);
      case OP.MEM_BEGIN:
        return this.memBegin(op, words(4));
      case OP.MEM_DATA:
        return this.memData(op, data, checksum);
      case OP.MEM_END:
        return this.memEnd(op, words(2));
      case OP.SPI_ATTACH:
      case OP.SPI_SET_PARAMS:
        return this.reply(op);
      case OP.CHANGE_BAUDRATE:
        return this.changeBaud(op, words(1)[0]!);
      case OP.FLASH_BEGIN:
      case OP.FLASH_DEFL_BEGIN:
        return this.flashBegin(op, words(4), Math.floor(data.length / 4));
      case OP.FLASH_DATA:
      case OP.FLASH_DEFL_DATA:
        return this.flashData(op, data, checksum);
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END:
        return this.flashEnd(op, words(1)[0]!);
      case OP.SPI_FLASH_MD5:
        return this.md5(op, words(2));
      case OP.ERASE_FLASH:
        this.flash.fill(0xff);
        return this.reply(op);
      case OP.ERASE_REGION:
        return this.eraseRegion(op, words(2));
      case OP.READ_FLASH:
        return this.readFlash(op, words(4));
      case OP.RUN_USER_CODE:
        return this.boot('app');
      default:
        return this.unknown(op);
    }
  }

  private sync(data: Uint8Array): void {
    const expected = [0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)];
    if (data.length !== expected.length || data.some((byte, index) => byte !== expected[index])) return;
    // The ROM answers a SYNC eight times (its UART auto-baud); the stub once, with value 0.
    const times = this.isStub ? 1 : 8;
    for (let i = 0; i < times; i++) this.reply(OP.SYNC, this.isStub ? 0 : this.chip.syncValue);
  }

  private writeRegs(op: number, data: Uint8Array): void {
    for (let at = 0; at + 16 <= data.length; at += 16) {
      const [address, value, mask] = readWords(data.subarray(at), 3) as [number, number, number];
      const old = this.registers.get(address) ?? 0;
      this.registers.set(address, ((old & ~mask) | (value & mask)) >>> 0);
      if (address === this.chip.spiBase && value & SPI_CMD_USR) this.runSpiCommand();
    }
    this.reply(op);
  }

  /** The SPI peripheral's "user command": only RDID (0x9F) is modelled, answering as many bits as were asked. */
  private runSpiCommand(): void {
    const base = this.chip.spiBase;
    const reg = (offset: number) => this.registers.get(base + offset) ?? 0;
    const command = reg(0x24) & 0xff;
    const misoBits = this.options.chip === 'esp32' ? reg(0x2c) + 1 : ((reg(0x20) >>> 8) & 0x1ff) + 1;
    const mask = misoBits >= 32 ? 0xffffffff : (1 << misoBits) - 1;
    if (command === 0x9f) this.registers.set(base + this.chip.spiW0, (jedecId(this.flash.length) & mask) >>> 0);
    this.registers.set(base, reg(0) & ~SPI_CMD_USR);
  }

  private memBegin(op: number, [size, , , address]: number[]): void {
    this.ram.push({ address: address!, data: [], expected: size! });
    this.reply(op);
  }

  private memData(op: number, data: Uint8Array, checksum: number): void {
    const block = data.subarray(16);
    const segment = this.ram[this.ram.length - 1];
    if (!segment) return this.refuse(op, this.isStub ? STUB_ERR.notInFlashMode : ROM_ERR.invalid);
    if (checksumOf(block) !== (checksum & 0xff)) return this.refuse(op, this.isStub ? STUB_ERR.checksum : ROM_ERR.checksum);
    segment.data.push(...block);
    this.reply(op);
  }

  private memEnd(op: number, [noEntry, entry]: number[]): void {
    this.reply(op);
    if (noEntry !== 0) return;
    const loaded = this.ram.map((segment) => ({ address: segment.address, bytes: segment.data.length }));
    this.stubUploads.push({ segments: loaded, entry: entry! });
    const runsUploadedCode = loaded.some((segment) => entry! >= segment.address && entry! < segment.address + segment.bytes);
    if (!runsUploadedCode) return; // jumping into nowhere: the chip just hangs
    if (this.faults.silentStub) {
      this.stalled = true; // a stub that hangs before its hello: nothing answers until a reset
      return;
    }
    this.state = 'stub';
    this.emit(slipEncode(new TextEncoder().encode('OHAI')));
  }

  private changeBaud(op: number, baud: number): void {
    this.baudChanges.push(baud);
    this.reply(op); // still at the old speed
    this.uartBaud = baud;
    if (this.faults.refuseBauds?.includes(baud)) this.linkBroken = true;
  }

  private flashBegin(op: number, [size, , blockSize, offset]: number[], words: number): void {
    this.flashBegins.push({ by: this.isStub ? 'stub' : 'rom', words, blockSize: blockSize! });
    const start = offset!;
    const end = start + size!;
    if (start % SECTOR !== 0 || end > this.flash.length) return this.refuse(op, this.isStub ? STUB_ERR.spi : ROM_ERR.flashWrite);
    this.flash.fill(0xff, start, Math.min(this.flash.length, Math.ceil(end / SECTOR) * SECTOR));
    this.write = { offset: start, size: size!, nextSeq: 0, written: 0, ...(op === OP.FLASH_DEFL_BEGIN ? { compressed: [] } : {}) };
    this.writeSpoiled = false;
    this.reply(op);
  }

  private flashData(op: number, data: Uint8Array, checksum: number): void {
    const session = this.write;
    const [length, seq] = readWords(data, 2) as [number, number];
    const block = data.subarray(16);
    if (!session || (op === OP.FLASH_DEFL_DATA) !== (session.compressed !== undefined)) return this.refuse(op, this.isStub ? STUB_ERR.notInFlashMode : ROM_ERR.invalid);
    if (!this.isStub && op === OP.FLASH_DATA && this.romBlocks++ === this.faults.garbleRomBlock) {
      this.writeSpoiled = true;
      return this.refuse(op, ROM_ERR.checksum);
    }
    if (this.writeSpoiled) return this.refuse(op, ROM_ERR.invalid);
    if (length !== block.length) return this.refuse(op, this.isStub ? STUB_ERR.badLength : ROM_ERR.invalid);
    if (checksumOf(block) !== (checksum & 0xff)) return this.refuse(op, this.isStub ? STUB_ERR.checksum : ROM_ERR.checksum);
    if (seq !== session.nextSeq) return this.refuse(op, this.isStub ? STUB_ERR.badLength : ROM_ERR.invalid);
    const fresh = session.compressed ? this.inflateMore(session, block) : block;
    if (fresh === undefined) return this.refuse(op, this.isStub ? STUB_ERR.inflate : ROM_ERR.deflate);
    if (this.isStub && session.written + fresh.length > session.size && session.compressed) return this.refuse(op, STUB_ERR.tooMuch);
    this.program(session.offset + session.written, fresh);
    session.written += fresh.length;
    session.nextSeq++;
    this.counted.writeBlocks++;
    this.reply(op);
  }

  /** The new bytes that this block's compressed data adds (zlib stream, as esptool sends it). */
  private inflateMore(session: WriteSession, block: Uint8Array): Uint8Array | undefined {
    session.compressed!.push(Buffer.from(block));
    try {
      const all = inflateSync(Buffer.concat(session.compressed!), { finishFlush: constants.Z_SYNC_FLUSH });
      return new Uint8Array(all.subarray(session.written));
    } catch {
      return undefined;
    }
  }

  /** NOR flash: programming only clears bits. The wrong-MD5 fault is one cell that will not program. */
  private program(address: number, bytes: Uint8Array): void {
    let stuck = this.faults.wrongMd5 === true;
    bytes.forEach((byte, index) => {
      const at = address + index;
      if (at >= this.flash.length) return;
      if (stuck && byte !== 0xff) {
        stuck = false;
        return;
      }
      this.flash[at] = this.flash[at]! & byte;
    });
  }

  private flashEnd(op: number, stay: number): void {
    const session = this.write;
    if (!session) return this.refuse(op, this.isStub ? STUB_ERR.notInFlashMode : ROM_ERR.invalid);
    if (this.isStub && session.compressed && session.written < session.size) return this.refuse(op, STUB_ERR.notEnough);
    this.write = undefined;
    this.reply(op);
    if (stay === 0) this.boot('app');
  }

  private md5(op: number, [address, size]: number[]): void {
    const end = address! + size!;
    if (end > this.flash.length) return this.refuse(op, this.isStub ? STUB_ERR.spi : ROM_ERR.invalid);
    const digest = createHash('md5').update(this.flash.subarray(address!, end)).digest();
    // The stub answers 16 raw bytes; the ROM 32 hex characters.
    this.reply(op, 0, this.isStub ? new Uint8Array(digest) : new TextEncoder().encode(digest.toString('hex')));
  }

  private eraseRegion(op: number, [offset, size]: number[]): void {
    if (offset! % SECTOR !== 0 || size! % SECTOR !== 0 || offset! + size! > this.flash.length) return this.refuse(op, STUB_ERR.spi);
    this.flash.fill(0xff, offset!, offset! + size!);
    this.reply(op);
  }

  /** The stub's READ_FLASH: data packets of `packet` bytes, at most `inFlight` unacknowledged, then the MD5. */
  private readFlash(op: number, [offset, length, packet, inFlight]: number[]): void {
    if (offset! + length! > this.flash.length || packet === 0) return this.refuse(op, STUB_ERR.spi);
    this.reply(op);
    this.reading = { data: this.flash.slice(offset!, offset! + length!), sent: 0, acked: 0, packet: packet!, inFlight: inFlight! };
    this.pumpRead();
  }

  private onReadAck(frame: Uint8Array): void {
    const read = this.reading!;
    if (frame.length === 4) read.acked = readWords(frame, 1)[0]!;
    if (read.acked >= read.data.length) {
      this.reading = undefined;
      this.emit(slipEncode(new Uint8Array(createHash('md5').update(read.data).digest())));
      return;
    }
    this.pumpRead();
  }

  private pumpRead(): void {
    const read = this.reading!;
    while (read.sent < read.data.length && read.sent - read.acked < read.packet * read.inFlight) {
      const chunk = read.data.subarray(read.sent, read.sent + read.packet);
      read.sent += chunk.length;
      this.emit(slipEncode(chunk));
    }
  }

  // ---- replies ------------------------------------------------------------------------------------

  private reply(op: number, value = 0, data: Uint8Array = EMPTY, error = 0): void {
    const statusBytes = this.isStub ? 2 : this.chip.romStatusBytes;
    const body = new Uint8Array(data.length + statusBytes);
    body.set(data);
    body[data.length] = error ? 1 : 0;
    body[data.length + 1] = error;
    const packet = new Uint8Array(8 + body.length);
    const view = new DataView(packet.buffer);
    packet[0] = 0x01;
    packet[1] = op;
    view.setUint16(2, body.length, true);
    view.setUint32(4, value >>> 0, true);
    packet.set(body, 8);
    this.emit(slipEncode(packet));
  }

  private refuse(op: number, error: number): void {
    this.reply(op, 0, EMPTY, error);
  }

  /**
   * The stub echoes the opcode with "invalid command". The ROM's "invalid message" reply does not echo
   * it (esptool tells it apart from a failed command that way) and comes eight times; which opcode byte
   * it carries is not documented, the stand-in sends 0x00.
   */
  private unknown(op: number): void {
    if (this.isStub) return this.refuse(op, STUB_ERR.invalid);
    for (let i = 0; i < 8; i++) this.reply(0x00, 0, EMPTY, ROM_ERR.invalid);
  }
}

function readWords(data: Uint8Array, count: number): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: count }, (_, index) => (index * 4 + 4 <= data.length ? view.getUint32(index * 4, true) : 0));
}

function checksumOf(block: Uint8Array): number {
  return block.reduce((sum, byte) => sum ^ byte, CHECKSUM_SEED);
}

/** What the other end makes of bytes sent at the wrong speed: different bytes, and fewer. */
function garble(bytes: Uint8Array): Uint8Array {
  return bytes.filter((_, index) => index % 3 !== 2).map((byte) => (byte * 7 + 0x35) & 0xff);
}
