import type { CompileSummary } from '../../../../electron/contract/firmware';
import { imageLocation } from '../../../../electron/contract/firmware';

const SECTION_LABELS: Record<string, string> = { text: 'Flash', data: 'RAM' };

/** The board's build: its hash, whether it came from the cache, its sizes and where the image is. */
export function BuildCard({ build }: { build: CompileSummary }) {
  if (!build.success) return null;
  const how = build.cached ? 'cached (nothing compiled)' : `fresh, compiled in ${(build.ms / 1000).toFixed(1)} s`;
  const rows: Array<[string, string]> = [
    ['Build', `${build.buildHash} for ${build.fqbn} — ${how}`],
    ...build.sizes.map((s): [string, string] => [
      SECTION_LABELS[s.name] ?? s.name,
      `${s.size} of ${s.max} bytes${s.max > 0 ? ` (${Math.round((s.size / s.max) * 100)}%)` : ''}`,
    ]),
    ...(build.image ? [['Image', imageLocation(build.image)] as [string, string]] : []),
  ];
  return (
    <dl className="build-card" aria-label="Build">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
