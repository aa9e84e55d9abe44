// One Engine events stream for a project's containers, opened before anything starts (so no
// event can slip between a start and a subscription), read as JSON lines and handed to whoever
// watches a container by name.
import type Docker from 'dockerode';
import { LABEL_PROJECT } from './containerSpec';

type Watcher = { action(action: string): void; gone(error: Error): void };
type EventStream = NodeJS.ReadableStream & { destroy(): void };

export class ContainerEvents {
  private readonly watchers = new Map<string, Set<Watcher>>();
  private rest = '';
  private closed?: Error;

  private constructor(private readonly stream: EventStream) {
    stream.on('data', (chunk: Buffer) => this.read(chunk.toString('utf8')));
    // The stream ends (or errors) when the daemon dies: every watcher hears it.
    const gone = () =>
      this.end(Object.assign(new Error('the engine closed the events stream'), { code: 'ECONNRESET' }));
    stream.on('error', gone);
    stream.on('end', gone);
    stream.on('close', gone);
  }

  /** Health changes and deaths of the project's containers, from now on. */
  static async open(docker: Docker, project: string): Promise<ContainerEvents> {
    const filters = {
      type: ['container' as const],
      label: [`${LABEL_PROJECT}=${project}`],
      event: ['health_status', 'die'],
    };
    return new ContainerEvents((await docker.getEvents({ filters })) as EventStream);
  }

  /** Calls `action` with each event's action ("health_status: healthy", "die", …) for the container; returns the unwatch. */
  watch(name: string, action: (action: string) => void, gone: (error: Error) => void): () => void {
    const watcher = { action, gone };
    if (this.closed) {
      gone(this.closed);
      return () => {};
    }
    const set = this.watchers.get(name) ?? new Set<Watcher>();
    this.watchers.set(name, set.add(watcher));
    return () => set.delete(watcher);
  }

  close(): void {
    this.closed ??= new Error('closed');
    this.stream.destroy();
  }

  private read(text: string): void {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      const event = parse(line);
      if (!event) continue;
      for (const watcher of [...(this.watchers.get(event.name) ?? [])]) watcher.action(event.action);
    }
  }

  private end(error: Error): void {
    if (this.closed) return;
    this.closed = error;
    for (const set of this.watchers.values()) for (const watcher of [...set]) watcher.gone(error);
  }
}

function parse(line: string): { name: string; action: string } | undefined {
  try {
    const event = JSON.parse(line) as {
      Action?: unknown;
      status?: unknown;
      Actor?: { Attributes?: { name?: unknown } };
    };
    const name = event.Actor?.Attributes?.name;
    const action = event.Action ?? event.status;
    return typeof name === 'string' && typeof action === 'string' ? { name, action } : undefined;
  } catch {
    return undefined; // not an event: ignore it rather than fail the wait
  }
}
