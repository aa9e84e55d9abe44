import { MakerdeckError } from '../../contract';
import { rendererDir } from '../../core/paths';
import { untilInterrupted, type Command } from '../command';
import { EXIT } from '../output';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run Makerdeck in your browser (the same app, served on 127.0.0.1)',
  usage: 'makerdeck serve [--port N] [--host ADDRESS --allow-remote] [--json]',
  options: {
    port: { type: 'string', description: 'port to listen on; 0 picks a free one (default 0)' },
    host: { type: 'string', description: 'address to bind (default 127.0.0.1)' },
    'allow-remote': { type: 'boolean', description: 'allow a non-loopback --host (other machines can then reach the API with the token)' },
  },
  async run({ host, out, values }) {
    const port = parsePort(values.port);
    await host.loadSecrets();
    // Loaded here so other commands don't pay for the HTTP and WebSocket stack at start-up.
    const { startWebServer } = await import('../../web/server');
    const server = await startWebServer({
      host,
      rendererDir: rendererDir(),
      port,
      bind: typeof values.host === 'string' ? values.host : undefined,
      allowRemote: values['allow-remote'] === true,
    });
    out.data({ url: server.url, port: server.port });
    out.text(`Makerdeck is running at ${server.url}`);
    out.text('Open that address in a browser; press Ctrl+C to stop.');
    await untilInterrupted();
    await server.close();
    return EXIT.ok;
  },
};

function parsePort(value: unknown): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MakerdeckError('BAD_INPUT', `--port "${String(value)}" is not a port: use a whole number from 1 to 65535, or 0 for any free port`);
  }
  return port;
}
