// What an import of one pack has done so far, kept in `<dataDir>/packs/<packId>/import.json` (written
// atomically after every file and step), so a run after a kill or a cancel resumes where it stopped:
// files already extracted with the manifest's checksum are not extracted again, steps already done say
// `already`.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { PackFileEntry, PackImportStep } from '../../contract';
import { jsonOrUndefined } from '../jsonOrUndefined';
import { writeAtomic } from '../settings/writeAtomic';

export const STATE_FILE = 'import.json';

const StateSchema = z.object({
  packId: z.string(),
  /** Extracted member path → its SHA-256 as the manifest gave it when it was extracted. */
  files: z.record(z.string(), z.string()),
  /** Step id → what it did. */
  steps: z.record(z.string(), z.object({ detail: z.string().optional() })),
});
type StateData = z.infer<typeof StateSchema>;

export class ImportState {
  private constructor(
    /** The pack's folder: `<dataDir>/packs/<packId>`. */
    readonly dir: string,
    private readonly data: StateData,
  ) {}

  /** The state in `dir`, or a fresh one when there is none (or it is unreadable, or another pack's). */
  static async load(dir: string, packId: string): Promise<ImportState> {
    const text = await readFile(path.join(dir, STATE_FILE), 'utf8').catch(() => undefined);
    const parsed = text === undefined ? undefined : StateSchema.safeParse(jsonOrUndefined(text));
    const data = parsed?.success && parsed.data.packId === packId ? parsed.data : { packId, files: {}, steps: {} };
    return new ImportState(dir, data);
  }

  /** Where a member is (or will be) extracted. */
  pathOf(member: string): string {
    return path.join(this.dir, 'files', ...member.split('/'));
  }

  /** True when the member was extracted with this checksum and its file is still there at its size. */
  async extracted(entry: PackFileEntry): Promise<boolean> {
    if (this.data.files[entry.path] !== entry.sha256) return false;
    const info = await stat(this.pathOf(entry.path)).catch(() => undefined);
    return info?.isFile() === true && info.size === entry.bytes;
  }

  async markExtracted(entry: PackFileEntry): Promise<void> {
    this.data.files[entry.path] = entry.sha256;
    await this.save();
  }

  /** The step as an earlier run recorded it (`already`), or undefined when it is still to do. */
  done(step: string, title: string): PackImportStep | undefined {
    const record = this.data.steps[step];
    return record ? { part: step, title, result: 'already', detail: record.detail } : undefined;
  }

  async markDone(step: string, detail?: string): Promise<void> {
    this.data.steps[step] = detail === undefined ? {} : { detail };
    await this.save();
  }

  /** Forgets the extracted files (once removed): a later run extracts again what it needs. */
  async forgetFiles(): Promise<void> {
    this.data.files = {};
    await this.save();
  }

  private save(): Promise<void> {
    return writeAtomic(path.join(this.dir, STATE_FILE), JSON.stringify(this.data, null, 2) + '\n');
  }
}
