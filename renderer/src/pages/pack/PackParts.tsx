import type { PackPartKind } from '../../../../electron/contract/pack';
import { formatBytes } from './formatBytes';

/** A part as a plan, a summary or a manifest gives it; `files` is a count or the list. */
export interface PartRow {
  id: string;
  kind: PackPartKind;
  title: string;
  version?: string;
  bytes: number;
  installedBytes?: number;
  files: number | unknown[];
}

/** Each part with its size as text and as a bar of the whole pack, so the big ones stand out at a glance. */
export function PackParts({ parts, label, bytes }: { parts: PartRow[]; label: string; bytes?: number }) {
  const total = bytes ?? parts.reduce((sum, p) => sum + p.bytes, 0);
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
            <td className="pack-size">{formatBytes(p.bytes)}</td>
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
          <th className="pack-size">{formatBytes(total)}</th>
          {installed && <th>{formatBytes(parts.reduce((sum, p) => sum + (p.installedBytes ?? p.bytes), 0))}</th>}
          <th />
        </tr>
      </tfoot>
    </table>
  );
}
