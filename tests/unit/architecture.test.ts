// The house rules of ../shared/design: electron only in main/ and preload/, the renderer talks
// only to the contract, and the contract itself depends on nothing but zod.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/env';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(ts|tsx)$/.test(name) ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
}

const rel = (file: string) => path.relative(repoRoot, file);

describe('architecture', () => {
  const electronDir = path.join(repoRoot, 'electron');

  it('imports electron only in electron/main and electron/preload', () => {
    const offenders = sources(electronDir)
      .filter((file) => !/electron\/(main|preload)\//.test(rel(file)))
      .filter((file) => importsOf(file).some((spec) => spec === 'electron' || spec.startsWith('electron/')));
    expect(offenders.map(rel)).toEqual([]);
  });

  it('lets the renderer import only react, uplot, the contract and its own files', () => {
    const renderer = path.join(repoRoot, 'renderer', 'src');
    const bad: string[] = [];
    for (const file of sources(renderer)) {
      for (const spec of importsOf(file)) {
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(file), spec);
          const ok = target.startsWith(renderer) || target.startsWith(path.join(electronDir, 'contract'));
          if (!ok) bad.push(`${rel(file)} -> ${spec}`);
        } else if (!/^(react|react-dom|uplot)(\/|$)/.test(spec)) {
          bad.push(`${rel(file)} -> ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('keeps the contract free of dependencies other than zod', () => {
    const deps = sources(path.join(electronDir, 'contract')).flatMap((file) => importsOf(file).filter((spec) => !spec.startsWith('.')));
    expect([...new Set(deps)]).toEqual(['zod']);
  });

  it('keeps the preload to the contract wire types and electron', () => {
    const specs = sources(path.join(electronDir, 'preload')).flatMap(importsOf);
    expect(specs.every((spec) => spec === 'electron' || spec.startsWith('../contract/'))).toBe(true);
  });
});
