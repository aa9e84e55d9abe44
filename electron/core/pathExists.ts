// Existence checks for the places where "missing" is an answer, not an error.
import { stat } from 'node:fs/promises';

/** Whether anything (a file, a folder, …) is at `file`; an unreadable path counts as missing. */
export function pathExists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Whether a regular file is at `file` (links followed). */
export function fileExists(file: string): Promise<boolean> {
  return stat(file).then(
    (info) => info.isFile(),
    () => false,
  );
}
