// The one line a page shows after an action: an error (announced at once) or a notice.

/** What an action left to say; errors are the core's one line with the fix. */
export interface PageMessageState {
  kind: 'error' | 'notice';
  text: string;
}

/** Renders the message, or nothing; `testId` lets a test find one page's line among others. */
export function PageMessage({ message, testId }: { message?: PageMessageState; testId?: string }) {
  if (!message) return null;
  return (
    <p className={message.kind} role={message.kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {message.text}
    </p>
  );
}

/** Runs an action and leaves its one line: the notice it returns, or its error's message. Never throws. */
export async function showOutcome(
  setMessage: (message: PageMessageState | undefined) => void,
  work: () => Promise<string>,
): Promise<void> {
  setMessage(undefined);
  try {
    setMessage({ kind: 'notice', text: await work() });
  } catch (e) {
    setMessage({ kind: 'error', text: (e as Error).message });
  }
}
