// Long-running work (compile, flash) that a client may cancel by the id it chose.
import { randomUUID } from 'node:crypto';
import { MakerdeckError } from '../contract';

export interface Operation {
  id: string;
  signal: AbortSignal;
}

export class Operations {
  private readonly running = new Map<string, AbortController>();

  async run<T>(id: string | undefined, work: (operation: Operation) => Promise<T>): Promise<T> {
    const operationId = id ?? randomUUID();
    if (this.running.has(operationId))
      throw new MakerdeckError('BAD_INPUT', `Operation ${operationId} is already running: use a new id`);
    const controller = new AbortController();
    this.running.set(operationId, controller);
    try {
      return await work({ id: operationId, signal: controller.signal });
    } finally {
      this.running.delete(operationId);
    }
  }

  cancel(id: string): boolean {
    const controller = this.running.get(id);
    controller?.abort();
    return controller !== undefined;
  }
}
