// The renderer's one typed client of the contract; pages use only this.
import type { ArgsOf, EventName, PayloadOf, RequestName, ResultOf } from '../../../electron/contract/api';
import { MakerdeckError } from '../../../electron/contract/errors';
import { defaultTransport, type Transport } from './transports';

export class ApiClient {
  constructor(private readonly transport: Transport) {}

  /** Resolves with the result, or rejects with a MakerdeckError (code + one human line). */
  async call<N extends RequestName>(name: N, args: ArgsOf<N>): Promise<ResultOf<N>> {
    const reply = await this.transport.call(name, args);
    if (!reply.ok) throw MakerdeckError.fromWire(reply.error);
    return reply.value as ResultOf<N>;
  }

  on<E extends EventName>(name: E, listener: (payload: PayloadOf<E>) => void): () => void {
    return this.transport.onEvent((eventName, payload) => {
      if (eventName === name) listener(payload as PayloadOf<E>);
    });
  }

  /** What the page calls its mode: the desktop app over IPC, browser mode over the WebSocket. */
  get mode(): string {
    return this.transport.kind === 'ipc' ? 'desktop app' : 'browser mode';
  }

  onConnection(listener: (connected: boolean) => void): () => void {
    return this.transport.onState(listener);
  }
}

let client: ApiClient | undefined;

export function api(): ApiClient {
  client ??= new ApiClient(defaultTransport());
  return client;
}
