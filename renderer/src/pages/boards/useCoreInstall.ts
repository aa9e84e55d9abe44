// Installing a board core from a page: the request, its progress events and cancel, for the Boards
// page and the Firmware page's "Install" offer after a core-missing compile.
import { useEffect, useState } from 'react';
import type { BoardsInstallSummary, BoardsProgress } from '../../../../electron/contract/boards';
import { api } from '../../api/client';

export type CoreInstallSource = { core: string; version?: string } | { path: string; core?: string };

export interface CoreInstall {
  busy: boolean;
  progress?: BoardsProgress;
  install(source: CoreInstallSource): Promise<BoardsInstallSummary>;
  cancel(): void;
}

/** One install at a time; `progress` is the newest event of the running one. */
export function useCoreInstall(): CoreInstall {
  const [operationId, setOperationId] = useState<string>();
  const [progress, setProgress] = useState<BoardsProgress>();
  useEffect(
    () =>
      api().on('boards.progress', (p) => {
        if (p.operationId === operationId) setProgress(p);
      }),
    [operationId],
  );
  const install = async (source: CoreInstallSource) => {
    const id = crypto.randomUUID();
    setOperationId(id);
    setProgress(undefined);
    try {
      return 'path' in source
        ? await api().call('boards.installFrom', { operationId: id, ...source })
        : await api().call('boards.install', { operationId: id, ...source });
    } finally {
      setOperationId(undefined);
    }
  };
  const cancel = () => {
    if (operationId) void api().call('operations.cancel', { operationId });
  };
  return { busy: operationId !== undefined, progress, install, cancel };
}
