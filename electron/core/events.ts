// The event bus of one host: core services emit contract events here; transports subscribe.
// Every payload is redacted on the way in, so no subscriber can forward a secret.
import type { EventName, PayloadOf } from '../contract';
import type { Redactor } from './secrets/redactor';

export type AnyEventListener = (name: EventName, payload: unknown) => void;

export class EventBus {
  private readonly listeners = new Set<AnyEventListener>();

  constructor(private readonly redactor: Redactor) {}

  emit<E extends EventName>(name: E, payload: PayloadOf<E>): void {
    const safe = this.redactor.redactDeep(payload);
    for (const listener of this.listeners) listener(name, safe);
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  onAny(listener: AnyEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  on<E extends EventName>(name: E, listener: (payload: PayloadOf<E>) => void): () => void {
    return this.onAny((eventName, payload) => {
      if (eventName === name) listener(payload as PayloadOf<E>);
    });
  }
}
