// Builds the core services once for whichever host runs them (Electron, `makerdeck serve`, the CLI)
// and exposes them as the contract's handlers. Plain Node: nothing here imports electron.
import os from 'node:os';
import type { AppInfo, Handlers, Reply } from '../contract';
import { dispatch } from './dispatch';
import { runDoctor } from './doctor/doctor';
import { EventBus } from './events';
import { createLogger, type Logger } from './log';
import { defaultDataDir, defaultResourcesDir } from './paths';
import { Redactor } from './secrets/redactor';
import { APP_VERSION } from './version';

export interface HostOptions {
  kind: AppInfo['host'];
  env?: NodeJS.ProcessEnv;
  dataDir?: string;
  resourcesDir?: string;
  /** Keep log lines off stderr (the CLI's --json mode). */
  quiet?: boolean;
}

export interface Host {
  readonly handlers: Handlers;
  readonly bus: EventBus;
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** Validates and runs one request from an untrusted transport. */
  call(name: unknown, args: unknown): Promise<Reply<unknown>>;
}

export function createHost(options: HostOptions): Host {
  const env = options.env ?? process.env;
  const redactor = new Redactor();
  const bus = new EventBus(redactor);
  const logger = createLogger(bus, redactor, 'core', options.quiet);
  const dataDir = options.dataDir ?? defaultDataDir(env);
  const doctorContext = {
    env,
    dataDir,
    arduinoCli: {
      resourcesDir: options.resourcesDir ?? defaultResourcesDir(),
      configuredPath: env.MAKERDECK_ARDUINO_CLI || undefined,
      searchPath: env.PATH,
    },
  };

  const handlers: Handlers = {
    'app.info': async () => ({
      name: 'Makerdeck',
      version: APP_VERSION,
      host: options.kind,
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
    }),
    'doctor.run': (args) => runDoctor(doctorContext, { only: args.only, onCheck: (check) => bus.emit('doctor.check', check) }),
  };

  return {
    handlers,
    bus,
    redactor,
    logger,
    call: (name, args) => dispatch(handlers, name, args, redactor, logger),
  };
}
