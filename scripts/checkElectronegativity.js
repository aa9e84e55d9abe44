#!/usr/bin/env node
// Runs Doyensec's Electronegativity over the app's sources and fails on any HIGH finding.
//
// What is scanned: electron/ (main, preload, core, web, cli: TypeScript, parsed by Electronegativity's
// Babel TypeScript parser), renderer/ (index.html and the React sources) and package.json, staged
// together in a temp folder so the global checks (CSP, navigation limits, permission handler) see the
// whole app at once. Not scanned: tests/ and scripts/ (never shipped) and out/ (a bundle of the same
// sources plus minified React, which only adds vendor noise).
//
// Offline: Electronegativity fetches translations (S3) and Electron's release list (GitHub) with `got`.
// Neither is reachable here, so `got` is replaced by a stub that answers 404 / fails at once, and the
// one check that needs the release list (AvailableSecurityFixesGlobalCheck) is skipped; the
// Electron version is taken from node_modules/electron instead of being guessed.
//
// Writes test-results/electronegativity.sarif (the tool's own SARIF writer) and
// test-results/electronegativity.csv (same columns as the tool's CSV; written here because the tool's
// CSV writer races its header against its rows). Exit 1 on any HIGH finding (any confidence) or on a
// source file it could not parse (a file it cannot parse is a file it did not check).
//
// A justified false positive is silenced at its line with `// eng-disable CHECK_ID` (Electronegativity's
// own annotation), so the reason stays next to the code.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const resultsDir = path.join(root, 'test-results');
const sarifFile = path.join(resultsDir, 'electronegativity.sarif');
const csvFile = path.join(resultsDir, 'electronegativity.csv');
const SCANNED = ['electron', 'renderer', 'package.json'];
const SKIPPED_CHECKS = ['AvailableSecurityFixesGlobalCheck']; // AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK needs Electron's release list from GitHub

// ---- keep Electronegativity offline -----------------------------------------------------------------
const offlineGot = Object.assign(async () => ({ statusCode: 404, body: '', headers: {} }), {
  head: async () => {
    throw new Error('offline: checkElectronegativity.js does not fetch');
  },
});
// Module._load is Node's internal loader hook (not in @types/node).
/** @typedef {(request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown} Load */
const loader = /** @type {{ _load: Load }} */ (/** @type {unknown} */ (Module));
const originalLoad = loader._load;
/** @type {Load} */
loader._load = function load(request, parent, isMain) {
  if (request === 'got' && parent?.filename?.includes(`${path.sep}@doyensec${path.sep}electronegativity${path.sep}`))
    return offlineGot;
  return originalLoad.call(this, request, parent, isMain);
};

// ---- stage the sources --------------------------------------------------------------------------
const stage = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-electronegativity-'));
process.on('exit', () => rmSync(stage, { recursive: true, force: true })); // the tool may process.exit() on bad options
for (const entry of SCANNED) {
  cpSync(path.join(root, entry), path.join(stage, entry), {
    recursive: true,
    filter: (source) => !/[\\/](node_modules|dist|out)([\\/]|$)/.test(path.relative(root, source)),
  });
}

const electronVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version;
const toolVersion = JSON.parse(
  readFileSync(require.resolve('@doyensec/electronegativity/package.json'), 'utf8'),
).version;
/**
 * @typedef {{ name: string }} Level
 * @typedef {{ id: string, severity: Level, confidence: Level, file: string,
 *   location?: { line: number, column: number }, sample?: string, description?: string, manualReview?: boolean }} Issue
 * @typedef {{ file: string, message: string, tolerable: boolean }} ScanError
 * @typedef {{ atomicChecks: number, globalChecks: number, issues: Issue[], errors: ScanError[] }} ScanResult
 */
/** @type {(options: Record<string, unknown>) => Promise<ScanResult>} */
const run = require('@doyensec/electronegativity/dist/runner.js');

mkdirSync(resultsDir, { recursive: true });
const started = performance.now();
/** @type {ScanResult} */
let result;
try {
  result = await run({
    input: stage,
    output: sarifFile,
    isSarif: true,
    customScan: [],
    excludeFromScan: SKIPPED_CHECKS,
    isRelative: true,
    isVerbose: false,
    electronVersionOverride: electronVersion,
    parserPlugins: [],
  });
} finally {
  loader._load = originalLoad;
}
// The files Electronegativity looks at (its own filter: these extensions and package.json, no node_modules).
const scannedFiles = readdirSync(stage, { recursive: true })
  .map(String)
  .filter((file) => /\.(jsx?|tsx?|html?)$/.test(file) || path.basename(file) === 'package.json');
rmSync(stage, { recursive: true, force: true });

const SEVERITIES = ['HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'];
const findings = result.issues
  .map((issue) => ({
    id: issue.id,
    severity: issue.severity.name,
    confidence: issue.confidence.name,
    file: issue.file,
    line: issue.location?.line ?? 0,
    column: issue.location?.column ?? 0,
    sample: issue.sample ?? '',
    description: issue.description ?? '',
    manualReview: Boolean(issue.manualReview),
  }))
  .sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      a.file.localeCompare(b.file) ||
      a.line - b.line,
  );

const csv = (/** @type {unknown} */ value) => `"${String(value).replace(/"/g, '""')}"`;
writeFileSync(
  csvFile,
  [
    'issue,severity,confidence,filename,location,manual_review,sample,description,url',
    ...findings.map((f) =>
      [
        f.id,
        f.severity,
        f.confidence,
        csv(f.file),
        `${f.line}:${f.column}`,
        f.manualReview,
        csv(f.sample),
        csv(f.description),
        `https://github.com/doyensec/electronegativity/wiki/${f.id}`,
      ].join(','),
    ),
  ].join('\n') + '\n',
);

// ---- report -------------------------------------------------------------------------------------
const parseErrors = result.errors.filter((error) => !error.tolerable);
console.log(
  `checkElectronegativity: Electronegativity ${toolVersion}, ${result.atomicChecks} atomic + ${result.globalChecks} global checks, Electron ${electronVersion}, ${scannedFiles.length} files of ${SCANNED.join(', ')} (${((performance.now() - started) / 1000).toFixed(1)}s)`,
);
console.log(`  skipped (need the network): ${SKIPPED_CHECKS.join(', ')}`);
for (const severity of SEVERITIES) {
  const list = findings.filter((f) => f.severity === severity);
  console.log(`  ${severity}: ${list.length}`);
  for (const f of list) {
    const where = f.file === 'N/A' ? '(project-wide)' : `${f.file}:${f.line}:${f.column}`;
    console.log(
      `    ${f.id} [${f.confidence}${f.manualReview ? ', review' : ''}] ${where}${f.sample ? `  ${f.sample.replace(/\s+/g, ' ').slice(0, 100)}` : ''}`,
    );
  }
}
for (const error of result.errors.filter((e) => e.tolerable))
  console.log(`  parse warning: ${path.relative(stage, error.file)}: ${error.message}`);
console.log(`  results: ${path.relative(root, sarifFile)}, ${path.relative(root, csvFile)}`);

const failures = [
  ...findings
    .filter((f) => f.severity === 'HIGH')
    .map((f) => `HIGH ${f.id} (${f.confidence}) at ${f.file}:${f.line}:${f.column}`),
  ...parseErrors.map((error) => `could not parse ${path.relative(stage, error.file)}: ${error.message}`),
];
if (failures.length) {
  console.error(`checkElectronegativity: ${failures.length} failure(s):`);
  for (const failure of failures) console.error(`  ${failure}`);
  process.exitCode = 1; // not process.exit(): the tool is still writing the SARIF file
} else {
  console.log('checkElectronegativity: no HIGH finding');
}
