// One way for tests to assert a failure the way Makerdeck promises it: a MakerdeckError with the
// expected code and a message on one line.
import { expect } from 'vitest';
import { MakerdeckError, type ErrorCode } from '../../electron/contract';

/** Awaits `work`, expects it to reject with a one-line MakerdeckError matching `code` and `message`. */
export async function failure(work: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<MakerdeckError> {
  const error = await work.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MakerdeckError);
  const wrapped = error as MakerdeckError;
  expect({ code: wrapped.code, message: wrapped.message }).toMatchObject({
    code,
    message: expect.stringMatching(message),
  });
  expect(wrapped.message).not.toContain('\n');
  return wrapped;
}
