// Which IPC messages the main process answers, with no electron import so Node tests can run it.
import { isAppUrl } from './appScheme';

/** The parts of an IPC event the check reads (Electron's IpcMainInvokeEvent has them). */
export interface IpcSender {
  sender: unknown;
  senderFrame: { parent: unknown; url: string } | null;
}

/**
 * True only for a request from the Makerdeck window's own web contents, from its top frame (no
 * iframe), showing the app's own page: a page navigated elsewhere, or a frame inside it, gets nothing.
 */
export function isTrustedSender(event: IpcSender, windowContents: unknown): boolean {
  const frame = event.senderFrame;
  return event.sender === windowContents && frame !== null && frame.parent === null && isAppUrl(frame.url);
}
