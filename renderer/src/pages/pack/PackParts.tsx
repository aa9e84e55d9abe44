import type { PackPart, PackPartKind } from '../../../../electron/contract/pack';
import { formatBytes } from './formatBytes';

/** A part as a plan, a summary or a manifest gives it; `files` is a count or the list. */
export type PartRow = Omit<PackPart, 'files'> & { files: number | unknown[] };

/** Parts compressed as they are written: a plan knows only their uncompressed size, an upper bound. */
const COMPRESSED_WHEN_WRITTEN = new Set<PackPartKind>(['arduino-cli', 'library', 'images']);

/** Whether a plan's size of this part is an upper bound (it is compressed while the pack is written). */
export function plannedSizeIsUpperBound(kind: PackPartKind): boolean {
  return COMPRESSED_WHEN_WRITTEN.has(kind);
}

interface Props {
  parts: PartRow[];
  label: string;
  /** The pack's bytes, when known; else the parts' sum. */
  bytes?: number;
  /** A plan: sizes of parts compressed while writing are said as "at most". */
  planned?: boolean;
}

/** Each part with its size as text and as a bar of the whole pack, so the big ones stand out at a glance. */
export function PackParts({ parts, label, bytes, planned = false }: Props) {
  const total = bytes ?? parts.reduce((sum, p) => sum + p.bytes, 0);
  const atMost = (p: PartRow) => (planned && plannedSizeIsUpperBound(p.kind) ? 'at most ' : '');
  const totalAtMost = parts.some((p) => atMost(p)) ? 'at most ' : '';
  const installed = parts.some((p) => p.installedBytes !== undefined);
  return (
    <table className="services pack-parts" aria-label={label}>
      <thead>
        <tr>
          <th>Part</th>
          <th>Version</th>
          <th>Files</th>
          <th>Size</th>
          {installed && <th>Installed</th>}
          <th className="pack-bar-cell">Share of the pack</th>
        </tr>
      </thead>
      <tbody>
        {parts.length === 0 && (
          <tr>
            <td colSpan={installed ? 6 : 5} className="muted">
              Nothing chosen.
            </td>
          </tr>
        )}
        {parts.map((p) => (
          <tr key={p.id} data-part={p.id}>
            <td title={p.id}>
              {p.title} <span className="muted">{p.id}</span>
            </td>
            <td>{p.version ?? '—'}</td>
            <td>{typeof p.files === 'number' ? p.files : p.files.length}</td>
            <td className="pack-size">
              {atMost(p)}
              {formatBytes(p.bytes)}
            </td>
            {installed && <td>{p.installedBytes === undefined ? '—' : formatBytes(p.installedBytes)}</td>}
            <td className="pack-bar-cell">
              <meter aria-label={`${p.id} share`} min={0} max={Math.max(total, 1)} value={p.bytes} />{' '}
              <span className="muted">{total ? Math.round((p.bytes / total) * 100) : 0}%</span>
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th colSpan={3}>Total</th>
          <th className="pack-size">
            {totalAtMost}
            {formatBytes(total)}
          </th>
          {installed && (
            <th className="pack-size">
              {formatBytes(parts.reduce((sum, p) => sum + (p.installedBytes ?? p.bytes), 0))}
            </th>
          )}
          <th />
        </tr>
      </tfoot>
    </table>
  );
}
