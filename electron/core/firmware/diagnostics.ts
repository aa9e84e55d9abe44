// gcc's "file:line:col: severity: message" lines → structured diagnostics, with paths mapped from
// the private build copy back to the sketch the user edits.
import type { CompileDiagnostic } from '../../contract';
export type Diagnostic = CompileDiagnostic;

const PATTERN = /^(.+?):(\d+):(?:(\d+):)?\s+(fatal error|error|warning|note):\s+(.*)$/;

export function parseDiagnostics(output: string, mapPath: (file: string) => string): Diagnostic[] {
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const line of output.split(/\r?\n/)) {
    const match = PATTERN.exec(line.trim());
    if (!match) continue;
    const [, file, lineNo, column, severity, message] = match;
    const diagnostic: Diagnostic = {
      file: mapPath(file!),
      line: Number(lineNo),
      column: column ? Number(column) : undefined,
      severity: severity === 'fatal error' ? 'error' : (severity as Diagnostic['severity']),
      message: message!,
    };
    const key = `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}:${diagnostic.message}`;
    if (!seen.has(key)) diagnostics.push(diagnostic);
    seen.add(key);
  }
  return diagnostics;
}
