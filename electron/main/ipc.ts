// The contract over Electron IPC: one invoke channel for requests, one push channel for events.
// Each request's sender must be the app's own page in the top frame.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type Reply } from '../contract';
import type { Host } from '../core/host';
import { isAppUrl } from './scheme';

export function registerIpc(host: Host, window: BrowserWindow): void {
  ipcMain.handle(IPC_CALL_CHANNEL, (event, name: unknown, args: unknown): Promise<Reply<unknown>> => {
    if (!isTrustedSender(event, window)) {
      return Promise.resolve({ ok: false, error: { code: 'FORBIDDEN', message: 'Requests are accepted only from the Makerdeck window' } });
    }
    return host.call(name, args);
  });
  const unsubscribe = host.bus.onAny((name, payload) => {
    if (!window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, name, payload);
  });
  window.on('closed', () => {
    unsubscribe();
    ipcMain.removeHandler(IPC_CALL_CHANNEL);
  });
}

function isTrustedSender(event: IpcMainInvokeEvent, window: BrowserWindow): boolean {
  const frame = event.senderFrame;
  return event.sender === window.webContents && frame !== null && frame.parent === null && isAppUrl(frame.url);
}
