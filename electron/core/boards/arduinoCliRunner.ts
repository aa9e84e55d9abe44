// Runs one arduino-cli command for the board cores: output streamed to a callback, cancellable, the
// noise every command repeats offline (index downloads, missing discoveries) kept out of errors.
import { spawn } from 'node:child_process';
import { MakerdeckError } from '../../contract';

export interface ArduinoCliRun {
  binary: string;
  /** arduino-cli's config file; absent: the user's own configuration. */
  configFile?: string;
  signal?: AbortSignal;
  onStdout?: (chunk: string) => void;
}

export interface ArduinoCliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const MAX_KEPT = 8 * 1024 * 1024;

/** Runs `arduino-cli [--config-file F] --no-color ARGS`; rejects only when it could not run or was cancelled. */
export function runArduinoCli(run: ArduinoCliRun, args: string[]): Promise<ArduinoCliResult> {
  const fullArgs = [...(run.configFile ? ['--config-file', run.configFile] : []), '--no-color', ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(run.binary, fullArgs, {
      signal: run.signal,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_KEPT) stdout += chunk;
      run.onStdout?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_KEPT) stderr += chunk;
    });
    child.on('error', (error) => {
      if (run.signal?.aborted) return; // 'close' follows and reports the cancel
      reject(new MakerdeckError('UNAVAILABLE', `${run.binary} did not run: ${error.message.split('\n')[0]}`));
    });
    child.on('close', (code) => {
      if (run.signal?.aborted)
        reject(new MakerdeckError('CANCELLED', 'Cancelled: run it again to finish (finished downloads are kept)'));
      else resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

// What arduino-cli repeats on every command when it is offline or has no discoveries: not the failure.
const NOISE = /^(Error initializing instance:|Downloading index:|Some indexes could not be updated)/;

/** The line that says why a command failed, without the noise. */
export function failureLine(result: ArduinoCliResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split(/[\r\n]+/)
    .map((line) => line.trim())
    .filter((line) => line && !NOISE.test(line));
  const line = lines.find((l) => /^Error|^Invalid|^Can(no|')t/.test(l)) ?? lines[0] ?? `exit code ${result.code}`;
  return line.replace(/^Error during \w+: /, '').slice(0, 400);
}

/** Parses `--format json` output, naming the command when it is not JSON. */
export function parseJson<T>(result: ArduinoCliResult, command: string): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new MakerdeckError('UNAVAILABLE', `arduino-cli ${command} did not answer in JSON: ${failureLine(result)}`);
  }
}
