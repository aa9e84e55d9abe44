// What `arduino-cli core install|update-index` prints, as events. arduino-cli 1.0.4 prints no progress
// at all with --format json, so Makerdeck reads its text output: a progress bar redrawn with "\r"
// every 200 ms ("esp32:esp32@3.0.7 4.00 MiB / 36.13 MiB   11.07% 00m01s"), then one line per step.
export type CoreInstallEvent =
  | { kind: 'download'; item: string; bytesDone: number; bytesTotal: number }
  | { kind: 'downloaded'; item: string; cached: boolean }
  | { kind: 'installing'; item: string }
  | { kind: 'installed'; item: string }
  | { kind: 'index'; index: string; ok: boolean; error?: string };

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
const SIZE = String.raw`(\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB)`;
const BAR = new RegExp(String.raw`^(\S+) ${SIZE} / ${SIZE}\s+\d+(?:\.\d+)?%`);
const INDEX = /^Downloading index: (\S+) (.*)$/;
// An item is packager:name@version (a tool or a platform).
const ITEM = String.raw`([\w.-]+:[\w.-]+@[\w.+-]+)`;
const CACHED = new RegExp(String.raw`^(?:\S+ )?${ITEM} already downloaded$`);
const DOWNLOADED = new RegExp(String.raw`^${ITEM} downloaded$`);
const INSTALLING = new RegExp(String.raw`^Installing (?:platform )?${ITEM}\.\.\.$`);
const INSTALLED = new RegExp(String.raw`^(?:Platform )?${ITEM} installed$`);

const bytes = (value: string, unit: string) => Math.round(Number(value) * UNITS[unit]!);

/** One line (or one redraw of the progress bar) → an event; undefined for anything else. */
export function parseCoreInstallLine(raw: string): CoreInstallEvent | undefined {
  const line = raw.trim();
  const index = INDEX.exec(line);
  if (index) {
    const [, name, rest] = index;
    if (rest === 'downloaded') return { kind: 'index', index: name!, ok: true };
    if (BAR.test(`${name} ${rest}`)) return undefined; // the index's own progress bar
    return { kind: 'index', index: name!, ok: false, error: rest };
  }
  const bar = BAR.exec(line);
  if (bar) {
    const [, item, done, doneUnit, total, totalUnit] = bar;
    return { kind: 'download', item: item!, bytesDone: bytes(done!, doneUnit!), bytesTotal: bytes(total!, totalUnit!) };
  }
  let match = CACHED.exec(line);
  if (match) return { kind: 'downloaded', item: match[1]!, cached: true };
  if ((match = DOWNLOADED.exec(line))) return { kind: 'downloaded', item: match[1]!, cached: false };
  if ((match = INSTALLING.exec(line))) return { kind: 'installing', item: match[1]! };
  if ((match = INSTALLED.exec(line))) return { kind: 'installed', item: match[1]! };
  return undefined;
}

/** Splits a stream of output on "\r" and "\n" (pieces may end mid-line) and parses each line. */
export class CoreInstallOutput {
  private pending = '';
  /** The last total seen per item, so a finished download can report its size. */
  private readonly totals = new Map<string, number>();
  /** Bytes of the downloads that finished (not those already in the downloads folder). */
  downloadedBytes = 0;

  push(chunk: string): CoreInstallEvent[] {
    const parts = (this.pending + chunk).split(/[\r\n]/);
    this.pending = parts.pop() ?? '';
    // A line longer than any arduino-cli prints is not output worth keeping.
    if (this.pending.length > 64 * 1024) this.pending = '';
    return parts.flatMap((part) => this.parse(part));
  }

  end(): CoreInstallEvent[] {
    const rest = this.pending;
    this.pending = '';
    return this.parse(rest);
  }

  private parse(line: string): CoreInstallEvent[] {
    const event = parseCoreInstallLine(line);
    if (!event) return [];
    if (event.kind === 'download') this.totals.set(event.item, event.bytesTotal);
    if (event.kind === 'downloaded' && !event.cached) this.downloadedBytes += this.totals.get(event.item) ?? 0;
    return [event];
  }
}
