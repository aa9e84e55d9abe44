// One lab's running station: polls the port list (a new board is seen within half a second), tells
// each USB board apart, gives it a seat and runs its go on its port (stationPort.ts), at most
// `parallel` flashing at once. A port that disappears cancels that board's go only.
import { MakerdeckError, type FirmwareProgress, type FlashSummary, type StationView } from '../../contract';
import { boardFit } from './boardFit';
import { boardIdentity, type UsbPort } from './boardIdentity';
import { FlashSlots } from './flashSlots';
import type { StoredLab } from './labFile';
import type { LabStore } from './labStore';
import type { OnlineChecker } from './onlineCheck';
import { StationPort, type FlashRequest, type PortContext, type RunStart } from './stationPort';
import { ViewThrottle } from './viewThrottle';

/** The port list is read this often while a station runs. */
export const STATION_POLL_MS = 400;

export interface ListedPort {
  path: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
}

export interface LabStationDeps {
  store: LabStore;
  emit(view: StationView): void;
  /** The host's port list (serial.list's lister, so MAKERDECK_SYSFS_ROOT applies). */
  listPorts(): Promise<ListedPort[]>;
  flash(request: FlashRequest): Promise<FlashSummary>;
  cancel(operationId: string): void;
  watch(operationId: string, listener: (progress: FirmwareProgress) => void): () => void;
  online: OnlineChecker;
  ownLogin(): Promise<boolean>;
  pollMs?: number;
}

export interface StationSettings {
  parallel: number;
  onlineTimeoutS: number;
}

const INTERRUPTED = 'interrupted by a restart of Makerdeck: plug it in again';

export class LabStation {
  running = false;
  private readonly ports = new Map<string, StationPort>();
  /** Ports with a board now, and what the board on each said it was (USB ids and serial number). */
  private readonly present = new Map<string, ListedPort>();
  private readonly notices: string[] = [];
  private readonly slots: FlashSlots;
  private readonly throttle: ViewThrottle;
  private readonly context: PortContext;
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    readonly lab: StoredLab,
    private readonly deps: LabStationDeps,
    private settings: StationSettings,
  ) {
    this.slots = new FlashSlots(settings.parallel);
    this.throttle = new ViewThrottle(() => deps.emit(this.view()));
    this.context = {
      lab,
      store: deps.store,
      slots: this.slots,
      online: deps.online,
      onlineTimeoutMs: () => this.settings.onlineTimeoutS * 1000,
      flash: deps.flash,
      cancel: deps.cancel,
      watch: deps.watch,
      ownLogin: deps.ownLogin,
      changed: () => this.throttle.changed(),
      halt: (why) => void this.halt(why),
      stillPlugged: async (path) => {
        await new Promise((resolve) => setTimeout(resolve, (deps.pollMs ?? STATION_POLL_MS) + 100));
        return (await this.list()).some((port) => port.path === path);
      },
    };
  }

  /** Takes the boards plugged in now, fails seats a killed Makerdeck left flashing, then polls. */
  async start(): Promise<void> {
    this.running = true;
    const listed = await this.list();
    await this.failInterrupted(listed);
    await this.poll(listed, 'present');
    this.timer = setInterval(() => void this.tick(), this.deps.pollMs ?? STATION_POLL_MS);
    this.timer.unref?.();
    this.throttle.changed();
  }

  configure(settings: StationSettings): void {
    this.settings = settings;
    this.slots.resize(settings.parallel);
  }

  /** Stops watching for boards; boards being flashed finish their go. */
  stop(): void {
    this.running = false;
    clearInterval(this.timer);
    this.throttle.flush();
  }

  /**
   * Stops taking boards and says why (a locked keychain): boards being flashed finish, and boards
   * plugged in meanwhile are taken when the station is started again.
   */
  private async halt(why: string): Promise<void> {
    if (!this.running) return;
    this.stop();
    this.notice(
      `stopped: ${why.replace(/\.?$/, '.')} Then start the station again: boards plugged in meanwhile are taken then`,
    );
    await this.deps.store.setStation(this.lab.id, { running: false }).catch(() => undefined);
  }

  /** The host is closing: every go is abandoned as it is (the next start picks the seats up). */
  shutdown(): void {
    this.stop();
    for (const port of this.ports.values()) port.stop('shutdown');
  }

  /** A new go for the board of this seat, which must be plugged in. */
  retry(deviceId: string, identityKey: string | undefined): void {
    const port = [...this.ports.values()].find(
      (p) => this.present.has(p.view.port) && (p.seat?.deviceId === deviceId || p.identity.key === identityKey),
    );
    if (!port)
      throw new MakerdeckError('NOT_FOUND', `The board of ${deviceId} is not plugged in: plug it in (that flashes it)`);
    if (!port.finished) throw new MakerdeckError('BAD_INPUT', `${deviceId} is being flashed on ${port.view.port} now`);
    this.begin(new StationPort(this.context, port.view.port, port.identity), 'retry');
  }

  view(): StationView {
    return {
      lab: this.lab.id,
      running: this.running,
      parallel: this.settings.parallel,
      ports: [...this.ports.values()].map((port) => ({ ...port.view })),
      notices: [...this.notices],
    };
  }

  private async tick(): Promise<void> {
    if (this.polling || !this.running) return; // a slow listing is never stacked up
    this.polling = true;
    try {
      await this.poll(await this.list(), 'plugged');
    } catch {
      // A failed listing is tried again on the next tick.
    } finally {
      this.polling = false;
    }
  }

  private async list(): Promise<ListedPort[]> {
    return this.deps.listPorts();
  }

  private async poll(listed: ListedPort[], start: RunStart): Promise<void> {
    const usb = listed.filter((p): p is UsbPort => Boolean(p.vendorId));
    this.noticeIgnored(listed.filter((p) => !p.vendorId));
    // A port whose board changed between two polls (swapped quicker than a poll) is an unplug and a plug.
    const now = new Map(usb.map((p) => [p.path, p]));
    for (const [path, before] of this.present) {
      const listed = now.get(path);
      if (listed && !swapped(before, listed)) continue;
      this.present.delete(path);
      this.ports.get(path)?.stop('unplugged');
    }
    for (const port of usb) {
      if (this.present.has(port.path)) continue;
      const found = await boardIdentity(port, usb, () => this.deps.store.nextPlug(this.lab.id));
      this.present.set(port.path, port); // only now: a board whose plug number could not be written is tried again
      if (found.notice) this.notice(found.notice);
      this.begin(new StationPort(this.context, port.path, found.identity), start, boardFit(this.lab.board, port));
    }
  }

  private begin(port: StationPort, start: RunStart, misfit?: string): void {
    this.ports.set(port.view.port, port);
    this.throttle.changed();
    void port.run(start, misfit);
  }

  /** Seats a killed Makerdeck left 'flashing' whose board is not plugged in now. */
  private async failInterrupted(listed: ListedPort[]): Promise<void> {
    const keys = new Set(listed.map((p) => `usb:${p.vendorId}:${p.productId ?? '0000'}:${p.serialNumber?.trim()}`));
    const lab = await this.deps.store.get(this.lab.id);
    for (const seat of lab.seats.filter((s) => s.state === 'flashing' && !keys.has(s.identity?.key ?? ''))) {
      await this.deps.store.setSeat(this.lab.id, seat.deviceId, { state: 'failed', reason: INTERRUPTED });
      await this.deps.store.appendLog(this.lab.id, {
        time: new Date().toISOString(),
        port: seat.port ?? '',
        ...(seat.identity?.usbSerial ? { usbSerial: seat.identity.usbSerial } : {}),
        identity: seat.identity?.kind ?? 'port-order',
        deviceId: seat.deviceId,
        ...(seat.student ? { student: seat.student } : {}),
        result: 'failed',
        reason: INTERRUPTED,
        seconds: 0,
      });
    }
  }

  private noticeIgnored(ports: ListedPort[]): void {
    if (ports.length === 0 || this.notices.some((n) => n.startsWith('ignored: '))) return;
    const names = ports.map((p) => p.path).join(', ');
    this.notice(`ignored: ${names} (no USB id, so not a board: boards are plugged in over USB)`);
  }

  private notice(text: string): void {
    if (!this.notices.includes(text)) this.notices.push(text);
    this.throttle.changed();
  }
}

/**
 * Whether the port now holds another board: an id or serial number that differs. One that is missing
 * is not a difference: a listing read while a board is pulled out can miss attributes that vanish.
 */
function swapped(before: ListedPort, now: ListedPort): boolean {
  const differs = (a?: string, b?: string) => a !== undefined && b !== undefined && a !== b;
  return (
    differs(before.vendorId, now.vendorId) ||
    differs(before.productId, now.productId) ||
    differs(before.serialNumber, now.serialNumber)
  );
}
