// The manifest of a lab pack (`manifest.json`, the archive's first member) and the rules every member
// path keeps. The reader trusts nothing in a pack it did not check here first.
import { z } from 'zod';
import { MakerdeckError, type PackManifest } from '../../contract';

/** The manifest's name inside the archive; always the first member. */
export const MANIFEST_NAME = 'manifest.json';
/** A manifest larger than this is refused before parsing (thousands of members fit in far less). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** The largest member a ustar header can say the size of (11 octal digits). */
export const MAX_MEMBER_BYTES = 8 ** 11 - 1;

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Why a member path is unsafe, or undefined when it is safe: relative, forward slashes, no empty,
 * `.` or `..` segment, no drive letter, no control characters, not the manifest's own name.
 */
export function unsafeMemberPath(member: string): string | undefined {
  if (member.length === 0 || member.length > 1024) return 'is empty or longer than 1024 characters';
  if (member.includes('\\')) return 'has a backslash';
  if (/[\u0000-\u001f\u007f]/.test(member)) return 'has a control character';
  if (member.startsWith('/') || /^[a-zA-Z]:/.test(member)) return 'is absolute';
  if (member.split('/').some((segment) => segment === '' || segment === '.' || segment === '..'))
    return 'has an empty, "." or ".." segment';
  if (member === MANIFEST_NAME) return 'is the manifest’s own name';
  return undefined;
}

const MemberPath = z.string().superRefine((member, ctx) => {
  const why = unsafeMemberPath(member);
  if (why) ctx.addIssue({ code: 'custom', message: `member path ${JSON.stringify(member)} ${why}` });
});

const FileEntry = z
  .object({
    path: MemberPath,
    bytes: z.number().int().min(0).max(MAX_MEMBER_BYTES),
    sha256: z.string().regex(SHA256, 'a sha256 is 64 lowercase hex digits'),
  })
  .strict();

const Part = z
  .object({
    id: z
      .string()
      .min(1)
      .max(300)
      .regex(/^[\w.:@/+-]+$/, 'a part id is letters, digits and . : @ / + - _'),
    kind: z.enum(['arduino-cli', 'core', 'library', 'build', 'images', 'profiles']),
    title: z.string().max(300),
    version: z.string().max(100).optional(),
    bytes: z.number().int().min(0),
    installedBytes: z.number().int().min(0).optional(),
    files: z.array(FileEntry).max(100_000),
  })
  .strict()
  .refine((part) => part.bytes === part.files.reduce((sum, file) => sum + file.bytes, 0), {
    message: 'a part’s bytes are not the sum of its files',
  });

/** The zod schema of `PackManifest`: also no two parts with one id and no member listed twice. */
export const PackManifestSchema = z
  .object({
    format: z.literal('makerdeck-pack'),
    formatVersion: z.literal(1),
    id: z.string().regex(/^[0-9a-f-]{8,64}$/, 'a pack id is 8 to 64 hex digits and dashes'),
    name: z.string().max(100).optional(),
    createdAt: z.string().max(40),
    createdBy: z.object({ makerdeck: z.string().max(40), platform: z.string().max(40), arch: z.string().max(40) }),
    parts: z.array(Part).max(10_000),
  })
  .strict()
  .superRefine((manifest, ctx) => {
    const ids = new Set<string>();
    const paths = new Set<string>();
    for (const part of manifest.parts) {
      if (ids.has(part.id)) ctx.addIssue({ code: 'custom', message: `part ${part.id} is listed twice` });
      ids.add(part.id);
      for (const file of part.files) {
        if (paths.has(file.path)) ctx.addIssue({ code: 'custom', message: `member ${file.path} is listed twice` });
        paths.add(file.path);
      }
    }
  });

/** Checks a parsed manifest; throws BAD_INPUT in one line naming the first thing wrong. */
export function parseManifest(json: unknown, source = 'the pack'): PackManifest {
  const parsed = PackManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new MakerdeckError(
      'BAD_INPUT',
      `${source} has a bad manifest (${where}${issue.message}): make the pack again with makerdeck pack create`,
    );
  }
  return parsed.data as PackManifest;
}

/** Every member the manifest lists, by path, with the part it belongs to. */
export function manifestMembers(manifest: PackManifest): Map<string, { part: string; bytes: number; sha256: string }> {
  const members = new Map<string, { part: string; bytes: number; sha256: string }>();
  for (const part of manifest.parts)
    for (const file of part.files) members.set(file.path, { part: part.id, bytes: file.bytes, sha256: file.sha256 });
  return members;
}
