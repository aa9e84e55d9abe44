// Writing a planned pack: every member produced and checked into the writer's staging, then the
// manifest and the members into <file>.partial, renamed when whole. A plan with problems, an
// existing file or a cancel leaves nothing behind.
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  MakerdeckError,
  type PackCreateSummary,
  type PackManifest,
  type PackPart,
  type PackProgress,
} from '../../contract';
import type { Operation } from '../operations';
import { APP_VERSION } from '../version';
import { PackWriter, type MemberSource } from './packArchive';
import { planPack, type PackContents, type PackDeps } from './packPlan';
import type { PlannedMember } from './plannedPart';

export interface CreateArgs extends PackContents {
  file: string;
  overwrite?: boolean;
  name?: string;
}

type Emit = (progress: Omit<PackProgress, 'operationId'>) => void;

/** Plans, refuses a plan with problems, then writes the pack; resolves with its size and checksum. */
export async function createPack(
  deps: PackDeps,
  args: CreateArgs,
  operation: Operation,
  emit: Emit,
): Promise<PackCreateSummary> {
  const started = Date.now();
  const file = path.resolve(args.file);
  if (!args.overwrite && (await stat(file).catch(() => undefined)))
    throw new MakerdeckError('BAD_INPUT', `${file} exists: choose another file name, or overwrite it`);
  emit({ phase: 'plan', message: 'planning' });
  const blueprint = await planPack(deps, args);
  if (blueprint.problems.length) {
    const more = blueprint.problems.length - 1;
    throw new MakerdeckError(
      'BAD_INPUT',
      `${blueprint.problems[0]}${more ? ` (and ${more} more: makerdeck pack create --dry-run lists them)` : ''}`,
    );
  }
  if (blueprint.parts.length === 0) throw new MakerdeckError('BAD_INPUT', 'Nothing to pack: choose what to carry');
  const writer = await PackWriter.open(file, { overwrite: args.overwrite });
  try {
    const parts: PackPart[] = [];
    for (const planned of blueprint.parts) {
      const files = [];
      for (const member of planned.members) {
        emit({ phase: 'write', part: planned.id, message: member.path });
        files.push(
          await addMember(
            writer,
            member,
            deps,
            operation,
            everyMiB((bytesDone) =>
              emit({
                phase: 'write',
                part: planned.id,
                bytesDone,
                bytesTotal: member.estimated ? undefined : member.bytes,
              }),
            ),
          ),
        );
      }
      const { members: _members, ...part } = planned;
      parts.push({ ...part, bytes: files.reduce((sum, f) => sum + f.bytes, 0), files });
    }
    const manifest: PackManifest = {
      format: 'makerdeck-pack',
      formatVersion: 1,
      id: randomUUID(),
      ...(args.name ? { name: args.name } : {}),
      createdAt: new Date().toISOString(),
      createdBy: { makerdeck: APP_VERSION, platform: process.platform, arch: process.arch },
      parts,
    };
    const total = parts.reduce((sum, p) => sum + p.bytes, 0);
    emit({ phase: 'write', message: 'writing the pack', bytesDone: 0, bytesTotal: total });
    const written = await writer.finish(manifest, {
      signal: operation.signal,
      onBytes: everyMiB((bytesDone) => emit({ phase: 'write', bytesDone, bytesTotal: total })),
    });
    emit({ phase: 'done', message: file, bytesDone: written.bytes, bytesTotal: written.bytes });
    const view = parts.map(({ files, ...part }) => ({ ...part, files: files.length }));
    return { file, ...written, parts: view, ms: Date.now() - started };
  } catch (error) {
    await writer.abort();
    if (operation.signal.aborted) throw new MakerdeckError('CANCELLED', 'Cancelled: no pack was written');
    throw error;
  }
}

async function addMember(
  writer: PackWriter,
  member: PlannedMember,
  deps: PackDeps,
  operation: Operation,
  onBytes: (bytes: number) => void,
) {
  const context = { signal: operation.signal, cli: deps.cli, scratch: (name: string) => writer.scratch(name) };
  const source = await member.source(context);
  const normal: MemberSource =
    'text' in source ? { path: source.path, stream: () => Readable.from([Buffer.from(source.text)]) } : source;
  return writer.add(normal, { signal: operation.signal, onBytes });
}

/** Passes a byte count on once per MiB, so a large member does not flood the event stream. */
function everyMiB(report: (bytes: number) => void): (bytes: number) => void {
  let next = 0;
  return (bytes) => {
    if (bytes < next) return;
    next = bytes + 1024 * 1024;
    report(bytes);
  };
}
