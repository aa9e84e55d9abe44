// Connecting to the Docker engine the way the docker CLI does (DOCKER_HOST, else the default socket),
// and explaining connection failures in one line with the fix.
import type Docker from 'dockerode';
import { MakerdeckError } from '../../contract';

export interface DockerEndpoint {
  /** Printable form, e.g. unix:///var/run/docker.sock */
  label: string;
  options: Docker.DockerOptions;
}

const DEFAULT_SOCKET = process.platform === 'win32' ? '//./pipe/docker_engine' : '/var/run/docker.sock';

export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { label: `unix://${DEFAULT_SOCKET}`, options: { socketPath: DEFAULT_SOCKET } };
  const url = parseDockerHost(host);
  if (url.protocol === 'unix:' || url.protocol === 'npipe:') {
    return {
      label: host,
      options: { socketPath: url.protocol === 'npipe:' ? `//./pipe/${url.pathname.split('/').pop()}` : url.pathname },
    };
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const protocol = url.protocol === 'https:' || env.DOCKER_TLS_VERIFY === '1' ? 'https' : 'http';
    return {
      label: host,
      options: { host: url.hostname, port: Number(url.port || (protocol === 'https' ? 2376 : 2375)), protocol },
    };
  }
  throw new MakerdeckError(
    'BAD_INPUT',
    `DOCKER_HOST "${host}" is not supported: use unix:///path/to/docker.sock or tcp://host:port`,
  );
}

function parseDockerHost(host: string): URL {
  try {
    return new URL(host);
  } catch {
    throw new MakerdeckError(
      'BAD_INPUT',
      `DOCKER_HOST "${host}" is not a URL: use unix:///path/to/docker.sock or tcp://host:port`,
    );
  }
}

/** dockerode is loaded on first use: it is the heaviest module, and most commands never need it. */
export async function connectDocker(endpoint: DockerEndpoint): Promise<Docker> {
  const { default: DockerClient } = await import('dockerode');
  return new DockerClient(endpoint.options);
}

export interface DockerDiagnosis {
  /** warn: Docker simply is not installed (the stack can still be attached by URL); fail: it is broken. */
  status: 'warn' | 'fail';
  summary: string;
  fix: string;
}

export function explainDockerError(error: unknown, endpoint: DockerEndpoint): DockerDiagnosis {
  const code = (error as { code?: string } | null)?.code;
  const where = endpoint.label;
  switch (code) {
    case 'ENOENT':
      return {
        status: 'warn',
        summary: `Docker is not installed or not running: nothing at ${where}`,
        fix: 'Install Docker (Debian/Ubuntu: sudo apt install docker.io; macOS/Windows: Docker Desktop) and start it — or attach a remote stack by URL instead',
      };
    case 'ECONNREFUSED':
      return {
        status: 'fail',
        summary: `The Docker daemon is not running (connection refused at ${where})`,
        fix: 'Start it: sudo systemctl start docker (Linux), or open Docker Desktop',
      };
    case 'EACCES':
    case 'EPERM':
      return {
        status: 'fail',
        summary: `Permission denied on the Docker socket ${where}`,
        fix: 'Add yourself to the docker group: sudo usermod -aG docker $USER, then log out and back in',
      };
    case 'TIMEOUT':
      return {
        status: 'fail',
        summary: `The Docker engine at ${where} accepted the connection but did not answer in time`,
        fix: 'The daemon is hung: restart it (sudo systemctl restart docker, or restart Docker Desktop)',
      };
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return {
        status: 'fail',
        summary: `Docker at ${where} failed: ${message.split('\n')[0]}`,
        fix: 'Check that the Docker daemon is healthy: docker info',
      };
    }
  }
}

// dockerode accepts { abortSignal } on ping and version; @types/dockerode does not declare it yet.
type WithSignal<R> = (options: { abortSignal: AbortSignal }) => Promise<R>;

export async function pingDocker(docker: Docker, signal: AbortSignal): Promise<void> {
  await (docker.ping.bind(docker) as unknown as WithSignal<unknown>)({ abortSignal: signal });
}

export function dockerVersion(docker: Docker, signal: AbortSignal): Promise<Docker.DockerVersion> {
  return (docker.version.bind(docker) as unknown as WithSignal<Docker.DockerVersion>)({ abortSignal: signal });
}
