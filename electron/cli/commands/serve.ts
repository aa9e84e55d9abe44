import { MakerdeckError } from '../../contract';
import { rendererDir } from '../../core/paths';
import { untilInterrupted, type Command } from '../command';
import { EXIT } from '../output';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run Makerdeck in your browser (the same app, served on 127.0.0.1)',
  usage: [
    'makerdeck serve [--port N] [--host 127.0.0.1|::1] [--json]',
    '       makerdeck serve --allow-remote --public-host NAME [--host ADDRESS] [--port N] [--json]',
  ].join('\n'),
  options: {
    port: { type: 'string', description: 'port to listen on; 0 picks a free one (default 0)' },
    host: {
      type: 'string',
      description: 'address to bind: 127.0.0.1 (default) or ::1; with --allow-remote 0.0.0.0 (default) or one of yours',
    },
    'allow-remote': {
      type: 'boolean',
      description: 'let other machines connect, over HTTPS, with a certificate made for this run',
    },
    'public-host': {
      type: 'string',
      description: 'with --allow-remote: the name or address other machines type to reach this one (e.g. labbox.local)',
    },
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
      publicHost: typeof values['public-host'] === 'string' ? values['public-host'] : undefined,
    });
    // Lab stations that were running when Makerdeck stopped carry on (their state is in the data folder).
    host.station
      .resume()
      .catch((error: unknown) => host.logger.log('warn', `Lab stations not resumed: ${String(error)}`));
    out.data({ url: server.url, port: server.port, scheme: server.scheme, ...server.tls });
    out.text(`Makerdeck is running at ${server.url}`);
    if (server.tls) {
      out.text('Its certificate was made for this run, so the browser warns about it.');
      out.text(`Continue only if the browser shows this SHA-256 fingerprint: ${server.tls.fingerprint256}`);
      out.text('Anyone with the address (token included) can use Makerdeck: share it only with people you trust.');
      out.text('Press Ctrl+C to stop.');
    } else {
      out.text('Open that address in a browser; press Ctrl+C to stop.');
    }
    await untilInterrupted();
    host.station.shutdown();
    await server.close();
    return EXIT.ok;
  },
};

function parsePort(value: unknown): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MakerdeckError(
      'BAD_INPUT',
      `--port "${String(value)}" is not a port: use a whole number from 1 to 65535, or 0 for any free port`,
    );
  }
  return port;
}
