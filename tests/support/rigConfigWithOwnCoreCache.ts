import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requiredEnv } from './env';

/**
 * A copy of the arduino-cli test rig's configuration under `scratch` whose core build cache is a new,
 * empty folder there, so a build really compiles the core (and is still busy when a test acts on it).
 * Returns the config file.
 */
export function rigConfigWithOwnCoreCache(scratch: string): string {
  const config = requiredEnv('MAKERDECK_ARDUINO_CLI_CONFIG', 'the arduino-cli test rig');
  const ownConfig = path.join(scratch, 'arduino-cli.yaml');
  const cache = path.join(scratch, 'core-cache');
  writeFileSync(ownConfig, readFileSync(config, 'utf8').replace(/(build_cache:\s*\n\s*path:\s*).*/, `$1"${cache}"`));
  return ownConfig;
}
