import { MakerdeckError } from '../contract';

/**
 * Resolves with `work`'s result, or rejects with a TIMEOUT error after `ms`; the signal passed to
 * `work` is aborted then, so the probe can drop its socket or child process.
 */
export async function withTimeout<T>(ms: number, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new MakerdeckError('TIMEOUT', `${what} did not answer within ${formatSeconds(ms)}`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
