// The contract over Electron IPC: one invoke channel for requests, one push channel for events.
// Each request's sender must be the app's own page in the top frame (policy/trustedSender.ts).
import { ipcMain, type BrowserWindow } from 'electron';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type Reply } from '../contract';
import type { Host } from '../core/host';
import { isTrustedSender } from './policy/trustedSender';

/** Serves the contract to the window's page and forwards every host event to it. */
export function registerIpc(host: Host, window: BrowserWindow): void {
  ipcMain.handle(IPC_CALL_CHANNEL, (event, name: unknown, args: unknown): Promise<Reply<unknown>> => {
    if (!isTrustedSender(event, window.webContents)) {
      return Promise.resolve({
        ok: false,
        error: { code: 'FORBIDDEN', message: 'Requests are accepted only from the Makerdeck window' },
      });
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
