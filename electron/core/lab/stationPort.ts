// One board's go at the station, on one port: a seat for its identity, the release flashed when a
// slot is free (progress from firmware.progress), the boot check, then the wait for its first
// telemetry. Every result is written to its seat and the lab's log; a failure never looks done.
import {
  flashBoardFor,
  MakerdeckError,
  type BoardIdentity,
  type FirmwareProgress,
  type FlashBoard,
  type FlashSummary,
  type LabLogEntry,
  type StationPhase,
  type StationPortView,
} from '../../contract';
import type { ReleaseAs } from '../firmware/firmwareService';
import { boardName } from './boardFit';
import type { FlashSlots } from './flashSlots';
import type { StoredLab, StoredSeat } from './labFile';
import type { LabStore } from './labStore';
import type { OnlineChecker } from './onlineCheck';

export interface FlashRequest {
  operationId: string;
  port: string;
  board: FlashBoard;
  source: { profile: string; as: ReleaseAs };
}

/** What every port of one lab's station shares. */
export interface PortContext {
  lab: Pick<StoredLab, 'id' | 'name' | 'board' | 'template'>;
  store: LabStore;
  slots: FlashSlots;
  online: OnlineChecker;
  onlineTimeoutMs(): number;
  flash(request: FlashRequest): Promise<FlashSummary>;
  cancel(operationId: string): void;
  /** Routes firmware.progress of one operation here; returns the undo. */
  watch(operationId: string, listener: (progress: FirmwareProgress) => void): () => void;
  /** Whether boards log in as their own broker user (the local stack). */
  ownLogin(): Promise<boolean>;
  changed(): void;
  /** Whether the port is still listed a moment after a failure (a board pulled out fails its write first). */
  stillPlugged(port: string): Promise<boolean>;
  /** Stops taking new boards: every next one would fail the same way (the keychain is locked). */
  halt(why: string): void;
}

/** Why a run starts: a board plugged in, one already there when the station started, or a retry. */
export type RunStart = 'plugged' | 'present' | 'retry';

/** What each phase is called in "unplugged during …". */
const DURING: Partial<Record<StationPhase, string>> = {
  detected: 'the wait for a free slot',
  release: 'the release',
  write: 'the write',
  boot: 'the boot check',
  waiting: 'the wait for its first telemetry',
};

let operations = 0;

export class StationPort {
  readonly view: StationPortView;
  readonly identity: BoardIdentity;
  seat?: StoredSeat;
  private readonly controller = new AbortController();
  private operationId?: string;
  private stopped?: 'unplugged' | 'shutdown';
  private readonly detectedAt = Date.now();
  private buildHash?: string;

  constructor(
    private readonly ctx: PortContext,
    port: string,
    identity: BoardIdentity,
  ) {
    this.identity = identity;
    this.view = { port, identity, phase: 'detected', startedAt: new Date(this.detectedAt).toISOString() };
  }

  /** Whether the board's go is over (a result, or no seat). */
  get finished(): boolean {
    return ['online', 'silent', 'failed', 'unplugged'].includes(this.view.phase);
  }

  /** Runs the board's go to its result; never throws. `misfit` is why the port is not the lab's board type. */
  async run(start: RunStart, misfit?: string): Promise<void> {
    if (misfit) return this.set({ phase: 'failed', reason: misfit, message: undefined });
    try {
      if (!(await this.takeSeat(start))) return;
      const seat = this.seat!;
      if (start === 'present' && (seat.state === 'online' || seat.state === 'silent')) {
        return this.set({ phase: seat.state, message: `${seat.deviceId} was ${seat.state} already` });
      }
      this.buildHash = seat.buildHash;
      if (!(start === 'present' && seat.state === 'flashed')) await this.flash();
      await this.waitOnline();
    } catch (error) {
      await this.failed(error).catch(() => undefined);
    }
  }

  /** The board went away (`unplugged`) or the station is closing (`shutdown`: no seat is touched). */
  stop(why: 'unplugged' | 'shutdown'): void {
    if (this.finished) {
      if (why === 'unplugged') this.set({ phase: 'unplugged', message: 'unplugged' });
      return;
    }
    this.stopped ??= why;
    if (why === 'unplugged')
      this.view.reason = `unplugged during ${DURING[this.view.phase] ?? 'its go'}: plug it in again`;
    this.controller.abort(new MakerdeckError('CANCELLED', this.view.reason ?? 'the station stopped'));
    if (this.operationId) this.ctx.cancel(this.operationId);
  }

  private async takeSeat(start: RunStart): Promise<boolean> {
    const assigned = await this.ctx.store.assign(this.ctx.lab.id, this.identity);
    if (!assigned) {
      const reason = `every seat of lab ${this.ctx.lab.name} has a board: unplug this one, or add seats (a roster)`;
      this.set({ phase: 'failed', reason });
      return false;
    }
    this.seat = assigned.seat;
    const known = assigned.known && start === 'plugged' ? `plugged in again: ${assigned.seat.deviceId}` : undefined;
    this.set({ deviceId: assigned.seat.deviceId, student: assigned.seat.student, message: known });
    return true;
  }

  private async flash(): Promise<void> {
    const seat = this.seat!;
    const board = flashBoardFor(this.ctx.lab.board);
    if (!board) throw new MakerdeckError('BAD_INPUT', `Makerdeck cannot flash ${this.ctx.lab.board} boards`);
    this.set({ message: 'waiting for a free slot' });
    const release = await this.ctx.slots.take(this.controller.signal);
    try {
      this.controller.signal.throwIfAborted();
      await this.patchSeat({ state: 'flashing', port: this.view.port, reason: undefined, onlineAt: undefined });
      this.set({ phase: 'release', message: `releasing ${seat.deviceId}` });
      const summary = await this.flashOnce(board, seat.deviceId);
      if (summary.boot && !summary.boot.reported)
        throw new MakerdeckError(
          'UNAVAILABLE',
          `written, but the board did not report its id: ${summary.boot.message}`,
        );
      this.buildHash = summary.release?.buildHash;
    } finally {
      release();
    }
    const flashedAt = new Date().toISOString();
    await this.patchSeat({ state: 'flashed', buildHash: this.buildHash, flashedAt });
  }

  private async flashOnce(board: FlashBoard, deviceId: string): Promise<FlashSummary> {
    const operationId = (this.operationId = `lab-${this.ctx.lab.id}-${process.pid}-${++operations}`);
    const unwatch = this.ctx.watch(operationId, (p) => this.progress(p));
    try {
      const as = { deviceId, fqbn: this.ctx.lab.board, ownLogin: await this.ctx.ownLogin() };
      this.controller.signal.throwIfAborted();
      return await this.ctx.flash({
        operationId,
        port: this.view.port,
        board,
        source: { profile: this.ctx.lab.template, as },
      });
    } finally {
      unwatch();
      this.operationId = undefined;
    }
  }

  private progress(p: FirmwareProgress): void {
    if (this.stopped) return;
    const phase: StationPhase =
      p.phase === 'compile' || p.phase === 'stamp' ? 'release' : p.phase === 'boot' ? 'boot' : 'write';
    if (p.phase === 'done') return;
    const bytes = p.bytesTotal ? { bytesDone: p.bytesDone ?? 0, bytesTotal: p.bytesTotal } : {};
    this.set({
      phase,
      ...bytes,
      ...(p.message || p.phase === 'write' || p.phase === 'verify' ? { message: p.message ?? p.phase } : {}),
    });
  }

  private async waitOnline(): Promise<void> {
    const seat = this.seat!;
    const board = flashBoardFor(this.ctx.lab.board)!;
    this.set({ phase: 'waiting', message: `waiting for ${seat.deviceId}'s first telemetry`, bytesDone: undefined });
    const timeoutMs = this.ctx.onlineTimeoutMs();
    const result = await this.ctx.online.wait({
      deviceId: seat.deviceId,
      port: this.view.port,
      board,
      timeoutMs,
      signal: this.controller.signal,
      onWait: (message) => this.stopped || this.set({ message }),
    });
    this.controller.signal.throwIfAborted();
    const seconds = Math.round(timeoutMs / 1000);
    const reason =
      result === 'silent'
        ? `flashed, but no telemetry from ${seat.deviceId} within ${seconds} s: check its Wi-Fi or gateway, then retry`
        : undefined;
    const onlineAt = result === 'online' ? new Date().toISOString() : undefined;
    await this.patchSeat({ state: result, reason, onlineAt });
    await this.log(result, reason);
    this.set({ phase: result, reason, message: result === 'online' ? `${seat.deviceId} is online` : undefined });
  }

  private async failed(error: unknown): Promise<void> {
    if (this.stopped === 'shutdown') return;
    if (!this.stopped && !(await this.ctx.stillPlugged(this.view.port).catch(() => true))) this.stop('unplugged');
    const reason = this.stopped === 'unplugged' ? this.view.reason! : this.explain(error);
    // The seat and the log first: whoever sees the port's result finds it written.
    if (this.seat) {
      await this.patchSeat({ state: 'failed', reason }).catch(() => undefined);
      await this.log('failed', reason).catch(() => undefined);
    }
    this.set({ phase: this.stopped === 'unplugged' ? 'unplugged' : 'failed', reason, message: undefined });
    if (isKeychainFailure(error)) this.ctx.halt(reason);
  }

  /** One line with the fix: the flasher's "no bootloader" made about this lab's board. */
  private explain(error: unknown): string {
    const message = ((error as Error)?.message ?? String(error)).split('\n')[0]!;
    if (/^No bootloader answered on /.test(message)) {
      const name = boardName(this.ctx.lab.board);
      const fix = 'Check the board and its cable, then plug it in again';
      return `no ${name} bootloader answered on ${this.view.port}: is it an ${name}? ${fix}`;
    }
    return message;
  }

  private async patchSeat(patch: Partial<StoredSeat>): Promise<void> {
    this.seat = { ...this.seat!, ...patch };
    await this.ctx.store.setSeat(this.ctx.lab.id, this.seat.deviceId, patch);
  }

  private async log(result: LabLogEntry['result'], reason?: string): Promise<void> {
    const seat = this.seat!;
    const entry: LabLogEntry = {
      time: new Date().toISOString(),
      port: this.view.port,
      ...(this.identity.usbSerial ? { usbSerial: this.identity.usbSerial } : {}),
      identity: this.identity.kind,
      deviceId: seat.deviceId,
      ...(seat.student ? { student: seat.student } : {}),
      ...(this.buildHash ? { buildHash: this.buildHash } : {}),
      result,
      ...(reason ? { reason } : {}),
      seconds: Math.round((Date.now() - this.detectedAt) / 100) / 10,
    };
    await this.ctx.store.appendLog(this.ctx.lab.id, entry);
  }

  private set(patch: Partial<StationPortView>): void {
    Object.assign(this.view, patch);
    for (const key of Object.keys(patch) as Array<keyof StationPortView>)
      if (patch[key] === undefined) delete this.view[key];
    this.ctx.changed();
  }
}

/** The keychain locked or gone: no broker login can be made or read until someone unlocks it. */
function isKeychainFailure(error: unknown): boolean {
  return (
    error instanceof MakerdeckError &&
    error.code === 'UNAVAILABLE' &&
    /\b(keychain|keyring|Secret Service)\b/i.test(error.message)
  );
}
