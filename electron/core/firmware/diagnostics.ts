// gcc's "file:line:col: severity: message" lines → structured diagnostics, with paths mapped from
// the private build copy back to the sketch the user edits.
import { coreInstallCommand, type CompileDiagnostic } from '../../contract';
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

const MISSING_PLATFORM = /Platform '([A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+)(?:@[^']*)?' not found/;

/**
 * The core a build needs but lacks, from arduino-cli's error ("Platform 'esp32:esp32' not found:
 * platform not installed"), with the command that installs it.
 */
export function missingCore(error: string | undefined): { core: string; command: string } | undefined {
  const core = error ? MISSING_PLATFORM.exec(error)?.[1] : undefined;
  return core ? { core, command: coreInstallCommand(core) } : undefined;
}
