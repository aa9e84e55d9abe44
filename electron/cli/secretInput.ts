// Secrets reach the CLI only from a hidden prompt (on a terminal) or from stdin, one per line —
// never from argv, where every user of the machine can read them.
import { MakerdeckError } from '../contract';

export class SecretInput {
  private lines: string[] | undefined;

  /** Reads the next secret: a hidden prompt on a terminal, else the next line of stdin. */
  async read(label: string): Promise<string> {
    if (process.stdin.isTTY) return hiddenPrompt(label);
    this.lines ??= await readStdinLines();
    const line = this.lines.shift();
    if (line === undefined || line === '') {
      throw new MakerdeckError(
        'BAD_INPUT',
        `Expected the ${label} on its own line of stdin (one secret per line, in the order of the options)`,
      );
    }
    return line;
  }
}

async function readStdinLines(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new MakerdeckError('BAD_INPUT', 'stdin is not valid UTF-8 text: send the secrets as UTF-8, one per line');
  }
  return text.split('\n').map((line) => line.replace(/\r$/, ''));
}

function hiddenPrompt(label: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt shows, so nothing typed or pasted right after it is echoed.
  stdin.setRawMode(true);
  process.stderr.write(`${label}: `);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value: string[] = [];
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          finish();
          return resolve(value.join(''));
        }
        if (char === '\u0003' || char === '\u0004') {
          finish();
          return reject(new MakerdeckError('CANCELLED', 'Cancelled: nothing was changed'));
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else if (char >= ' ') value.push(char);
      }
    };
    stdin.on('data', onData);
  });
}
