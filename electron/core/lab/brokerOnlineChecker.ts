// The closed loop of the flash station: a board is online at its first telemetry under its own id on
// its own topic, as the broker delivers it (one shared connection for all waits), or silent when
// none came in time. An AVR board has no Wi-Fi: a gateway on its port publishes its lines with the
// device's own broker login, and stays until the port closes or the checker does, so the class's
// charts keep getting its telemetry.
import { MakerdeckError, type FlashBoard, type MonitorLines, type MonitorState } from '../../contract';
import { avrBoard } from '../firmware/avrBoards';
import type { DeviceLogin } from '../stack/deviceAccounts';
import { BoardGateway } from './boardGateway';
import type { OnlineChecker, OnlineWait } from './onlineCheck';
import { TelemetryWatch, telemetryTopic, type BrokerLogin } from './telemetryWatch';

/** What the firmware prints at (firmware/firmware.ino). */
const FIRMWARE_BAUD = 115200;

export interface BrokerOnlineCheckerDeps {
  /** The active environment's broker and login (it reads every board's topic). */
  broker(): Promise<BrokerLogin>;
  /** The device's own broker login from the keychain (DeviceAccounts.stored). */
  deviceLogin(deviceId: string): Promise<DeviceLogin | undefined>;
  /** The serial monitor: a reflash of the port (which releases it) ends the gateway there. */
  monitor: { open(port: string, baudRate: number): Promise<{ sessionId: string }>; close(id: string): Promise<void> };
  retryMs?: number;
}

interface Waiter {
  args: OnlineWait;
  said?: string;
  gatewayNote?: string;
  finish(result?: 'online' | 'silent', error?: Error): void;
}

/** Whether the board reaches the broker only through a gateway on its USB port. */
export function needsGateway(board: FlashBoard): boolean {
  return avrBoard(board) !== undefined;
}

export class BrokerOnlineChecker implements OnlineChecker {
  private readonly watch: TelemetryWatch;
  private readonly waiters = new Set<Waiter>();
  /** Port → its gateway. */
  private readonly gateways = new Map<string, BoardGateway>();
  /** Port → its gateway being stopped: a new gateway there waits for the port to be closed. */
  private readonly stopping = new Map<string, Promise<void>>();

  constructor(private readonly deps: BrokerOnlineCheckerDeps) {
    this.watch = new TelemetryWatch({ broker: deps.broker, state: () => this.tellAll(), retryMs: deps.retryMs });
  }

  wait(args: OnlineWait): Promise<'online' | 'silent'> {
    if (args.signal.aborted) return Promise.reject(cancelled(args.deviceId));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => waiter.finish('silent'), args.timeoutMs);
      const onAbort = () => waiter.finish(undefined, cancelled(args.deviceId));
      const waiter: Waiter = {
        args,
        finish: (result, error) => {
          if (!this.waiters.delete(waiter)) return;
          clearTimeout(timer);
          unwatch();
          args.signal.removeEventListener('abort', onAbort);
          // Not online: the port is given back before the answer, so a retry can flash it at once.
          const freed = result === 'online' ? Promise.resolve() : this.stopGateway(args.port, args.deviceId);
          void freed.then(() => (error ? reject(error) : resolve(result!)));
        },
      };
      this.waiters.add(waiter);
      const unwatch = this.watch.watch(args.deviceId, () => waiter.finish('online'));
      args.signal.addEventListener('abort', onAbort, { once: true });
      this.tell(waiter);
      if (needsGateway(args.board)) void this.startGateway(waiter);
    });
  }

  /** Monitor lines: those of a gateway's port go to it. */
  monitorLines(batch: MonitorLines): void {
    for (const gateway of this.gateways.values())
      if (gateway.sessionId === batch.sessionId) gateway.receive(batch.lines);
  }

  /** A gateway's port closed (unplugged, or released for a flash): that gateway ends. */
  monitorState(state: MonitorState): void {
    if (state.state !== 'closed') return;
    const gateway = this.gateways.get(state.port);
    if (gateway?.sessionId !== state.sessionId) return;
    this.gateways.delete(state.port);
    void gateway.close();
    const why = `the gateway on ${state.port} stopped (${state.reason ?? 'the port was closed'})`;
    for (const waiter of this.waiters) if (waiter.args.port === state.port) this.note(waiter, why);
  }

  /** Ends every wait (cancelled), gateway and the connection; a later wait connects again. */
  async close(): Promise<void> {
    for (const waiter of [...this.waiters])
      waiter.finish(undefined, new MakerdeckError('CANCELLED', 'The online check was closed'));
    await Promise.all([...this.gateways.keys()].map((port) => this.stopGateway(port)));
    await this.watch.close();
  }

  /** Opens the board's port and forwards its lines as the device (the environment's login if it has none). */
  private async startGateway(waiter: Waiter): Promise<void> {
    const { port, deviceId } = waiter.args;
    try {
      await this.stopGateway(port);
      const own = await this.deps.deviceLogin(deviceId);
      const login = own ? { ...(await this.deps.broker()), ...own } : await this.deps.broker();
      if (!this.waiters.has(waiter)) return; // ended while the login was read
      const { sessionId } = await this.deps.monitor.open(port, FIRMWARE_BAUD);
      const gateway = new BoardGateway(deviceId, sessionId, login, (why) => this.note(waiter, `the gateway: ${why}`));
      if (!this.waiters.has(waiter)) {
        await Promise.all([gateway.close(), this.deps.monitor.close(sessionId).catch(() => undefined)]);
        return;
      }
      this.gateways.set(port, gateway);
      const as = own ? own.username : `the environment's login (${deviceId} has no device login in the keychain)`;
      this.note(waiter, `through the gateway on ${port}, publishing as ${as}`);
    } catch (error) {
      this.note(waiter, `the gateway on ${port} could not start: ${(error as Error).message}`);
    }
  }

  private async stopGateway(port: string, deviceId?: string): Promise<void> {
    const gateway = this.gateways.get(port);
    if (!gateway || (deviceId !== undefined && gateway.deviceId !== deviceId)) return this.stopping.get(port);
    this.gateways.delete(port);
    const stopped = (async () => {
      await this.deps.monitor.close(gateway.sessionId).catch(() => undefined); // already closed by an unplug
      await gateway.close();
    })();
    this.stopping.set(port, stopped);
    await stopped;
    if (this.stopping.get(port) === stopped) this.stopping.delete(port);
  }

  private note(waiter: Waiter, note: string): void {
    if (!this.waiters.has(waiter)) return; // that wait is over
    waiter.gatewayNote = note;
    this.tell(waiter);
  }

  private tellAll(): void {
    for (const waiter of this.waiters) this.tell(waiter);
  }

  /** Says what the wait is on now, once per change. */
  private tell(waiter: Waiter): void {
    const { deviceId } = waiter.args;
    const problem = this.watch.problem;
    const base =
      problem === undefined
        ? `waiting for the first telemetry of ${deviceId} on ${telemetryTopic(deviceId)}`
        : `waiting for ${this.watch.broker}: ${problem}`;
    const message = waiter.gatewayNote ? `${base} (${waiter.gatewayNote})` : base;
    if (message === waiter.said) return;
    waiter.said = message;
    waiter.args.onWait(message);
  }
}

function cancelled(deviceId: string): MakerdeckError {
  return new MakerdeckError('CANCELLED', `The online check of ${deviceId} was cancelled`);
}
