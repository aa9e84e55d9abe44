// Exposes exactly the contract's two channels to the page as window.makerdeck; nothing else.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type MakerdeckBridge } from '../contract/wire';
import type { Reply } from '../contract/errors';

const bridge: MakerdeckBridge = {
  call: (name, args) => ipcRenderer.invoke(IPC_CALL_CHANNEL, name, args) as Promise<Reply<unknown>>,
  onEvent(listener) {
    const forward = (_event: IpcRendererEvent, name: string, payload: unknown) => listener(name, payload);
    ipcRenderer.on(IPC_EVENT_CHANNEL, forward);
    return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, forward);
  },
};

contextBridge.exposeInMainWorld('makerdeck', bridge);
