import { MakerdeckError } from '../../contract';
import { connectDocker, dockerEndpoint, dockerVersion, explainDockerError, pingDocker } from '../stack/dockerClient';
import { withTimeout } from '../timeout';
import type { Check } from './check';

const PING_TIMEOUT_MS = 2500;

export const dockerCheck: Check = {
  id: 'docker',
  title: 'Docker engine',
  budgetMs: 3500,
  async run(context) {
    const endpoint = dockerEndpoint(context.env);
    const docker = await connectDocker(endpoint);
    try {
      const version = await withTimeout(PING_TIMEOUT_MS, 'Docker', async (signal) => {
        await pingDocker(docker, signal);
        return dockerVersion(docker, signal);
      });
      return {
        status: 'ok',
        summary: `Docker Engine ${version.Version} (API ${version.ApiVersion}) answers at ${endpoint.label}`,
      };
    } catch (error) {
      const timedOut = error instanceof MakerdeckError && error.code === 'TIMEOUT';
      const { status, summary, fix } = explainDockerError(timedOut ? { code: 'TIMEOUT' } : error, endpoint);
      return { status, summary, fix };
    }
  },
};
