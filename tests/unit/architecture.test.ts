// The house rules of ../shared/design: electron only in main/ and preload/, the renderer talks
// only to the contract, and the contract itself depends on nothing but zod.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
  return [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm), // a side-effect import
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
}

const rel = (file: string) => path.relative(repoRoot, file);

/** The .ts/.tsx file (or folder index) a relative import names. */
function resolveSource(base: string): string {
  const candidates = [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')];
  const found = candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
  if (!found) throw new Error(`cannot resolve import ${rel(base)}`);
  return found;
}

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
    const deps = sources(path.join(electronDir, 'contract')).flatMap((file) =>
      importsOf(file).filter((spec) => !spec.startsWith('.')),
    );
    expect([...new Set(deps)]).toEqual(['zod']);
  });

  it('keeps electron/main/policy free of electron, also through what it imports (unit tests run it in Node)', () => {
    const bad: string[] = [];
    const seen = new Set<string>();
    const visit = (file: string, via: string[]) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (spec === 'electron' || spec.startsWith('electron/')) bad.push([...via, rel(file)].join(' -> '));
        else if (spec.startsWith('.'))
          visit(resolveSource(path.resolve(path.dirname(file), spec)), [...via, rel(file)]);
      }
    };
    const policy = sources(path.join(electronDir, 'main', 'policy'));
    expect(policy.length).toBeGreaterThanOrEqual(4);
    for (const file of policy) visit(file, []);
    expect(bad).toEqual([]);
  });

  it('builds the window, checks IPC senders and opens links only through the tested policy', () => {
    const main = path.join(electronDir, 'main');
    const read = (name: string) => readFileSync(path.join(main, name), 'utf8');
    expect(read('index.ts')).toMatch(
      /const options = windowOptions\(\{[^}]*\}\);\s*const window = new BrowserWindow\(options\)/,
    );
    expect(read('ipc.ts')).toMatch(/if \(!isTrustedSender\(event, window\.webContents\)\)/);
    expect(read('security.ts')).toMatch(/if \(isConsoleLink\(url\)\) \{\s*shell\s*\.openExternal\(url\)/);
    const outsidePolicy = sources(electronDir).filter((file) => !rel(file).startsWith('electron/main/policy/'));
    expect(outsidePolicy.filter((file) => /webPreferences/.test(readFileSync(file, 'utf8'))).map(rel)).toEqual([]);
    expect(outsidePolicy.filter((file) => /openExternal\(/.test(readFileSync(file, 'utf8'))).map(rel)).toEqual([
      'electron/main/security.ts',
    ]);
  });

  it('keeps the preload to the contract wire types and electron', () => {
    const specs = sources(path.join(electronDir, 'preload')).flatMap(importsOf);
    expect(specs.every((spec) => spec === 'electron' || spec.startsWith('../contract/'))).toBe(true);
  });
});
