// A progress line on stderr for long work (compile, flash): a bar, bytes and rate on a terminal,
// one line per phase otherwise. Nothing in --json mode.
import type { FirmwareProgress } from '../contract';
import type { Host } from '../core/host';

export function showProgress(host: Host, operationId: string, json: boolean): () => void {
  if (json) return () => {};
  const tty = process.stderr.isTTY === true;
  let phase = '';
  let phaseStarted = Date.now();
  const stop = host.bus.on('firmware.progress', (progress: FirmwareProgress) => {
    if (progress.operationId !== operationId) return;
    if (progress.phase !== phase) {
      if (tty && phase) process.stderr.write('\n');
      phase = progress.phase;
      phaseStarted = Date.now();
      if (!tty || !progress.bytesTotal)
        process.stderr.write(`${phase}${progress.message ? `: ${progress.message}` : ''}\n`);
    } else if (progress.build) process.stderr.write(`${phase}: ${progress.message}\n`); // cached or fresh, its hash
    // a change of course (the ESP stub did not start): its own line, whatever the mode
    if (progress.notice) process.stderr.write(`${tty ? '\n' : ''}${phase}: ${progress.notice}\n`);
    if (tty && progress.bytesTotal) process.stderr.write(`\r${renderBar(progress, Date.now() - phaseStarted)}`);
  });
  return () => {
    stop();
    if (tty && phase) process.stderr.write('\n');
  };
}

/**
 * Step lines on stderr with a bar redrawn in place between them (on a terminal only); a line equal to
 * the last one is not repeated. `close` ends a bar left open.
 */
export function stepLines(): { bar(text: string): void; line(text: string): void; close(): void } {
  const tty = process.stderr.isTTY === true;
  let open = false; // a bar is being redrawn on the current line
  let last = '';
  return {
    bar(text) {
      if (!tty) return;
      process.stderr.write(`\r${text}`);
      open = true;
    },
    line(text) {
      if (text === last) return;
      last = text;
      process.stderr.write(`${open ? '\n' : ''}${text}\n`);
      open = false;
    },
    close() {
      if (open) process.stderr.write('\n');
      open = false;
    },
  };
}

export function renderBar(progress: FirmwareProgress, elapsedMs: number): string {
  const done = progress.bytesDone ?? 0;
  const total = progress.bytesTotal ?? 0;
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : 0;
  const rate = elapsedMs > 0 ? done / 1024 / (elapsedMs / 1000) : 0;
  return `${progress.phase.padEnd(7)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done / 1024).toFixed(1)}/${(total / 1024).toFixed(1)} KiB ${rate.toFixed(1)} KiB/s`;
}
