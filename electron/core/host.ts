// Builds the core services once for whichever host runs them (Electron, `makerdeck serve`, the CLI)
// and exposes them as the contract's handlers. Plain Node: nothing here imports electron.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { MakerdeckError, type AppInfo, type Handlers, type Reply } from '../contract';
import { BoardCores } from './boards/boardCores';
import { dispatch } from './dispatch';
import { runDoctor } from './doctor/doctor';
import { EventBus } from './events';
import { createLogger, type Logger } from './log';
import { LogFile, logFilePath } from './logFile';
import { defaultDataDir, defaultFirmwareDir, defaultResourcesDir, defaultStackDir } from './paths';
import { FirmwareService, defaultBuildCacheDir } from './firmware/firmwareService';
import { arduinoCliConfigFor, arduinoCliHome } from './firmware/arduinoCliHome';
import { importPack, type PackImportDeps } from './pack/packImport';
import { DeviceService } from './device/deviceService';
import { Operations } from './operations';
import { Profiles } from './profiles/profiles';
import { SerialMonitor } from './serial/monitor';
import { DeviceAccounts, type DeviceLogin } from './stack/deviceAccounts';
import { migrateSharedLogin } from './stack/sharedLoginMigration';
import { Environments } from './stack/environment';
import { lanAddresses } from './stack/lanAddresses';
import { profileDefaults } from './stack/profileDefaults';
import { TelemetryService } from './telemetry/telemetryService';
import { StackService } from './stack/stackService';
import { listSerialPorts, portListerFor } from './serial/ports';
import { PortWatch } from './serial/portWatch';
import { folderAccounts } from './secrets/accounts';
import { FolderKeychain } from './secrets/folderKeychain';
import { Keychain } from './secrets/keychain';
import { Redactor } from './secrets/redactor';
import { StackCredentials } from './secrets/stackCredentials';
import { SettingsFile } from './settings/settingsFile';
import { APP_VERSION } from './version';
import { LabService } from './lab/labService';
import { LabStore } from './lab/labStore';
import { resetLab } from './lab/labReset';
import { Station } from './lab/station';
import { BrokerOnlineChecker } from './lab/brokerOnlineChecker';
import type { OnlineChecker } from './lab/onlineCheck';
import { listUsers } from './stack/brokerUsers';
import { checkInflux, deleteDevicePoints } from './telemetry/influxDelete';
import { PackCli } from './pack/packCli';
import { PackService } from './pack/packService';

export interface HostOptions {
  kind: AppInfo['host'];
  env?: NodeJS.ProcessEnv;
  dataDir?: string;
  resourcesDir?: string;
  /** The firmware sketch; the packaged app ships it in its resources. */
  firmwareDir?: string;
  /** stack/ with compose.yaml and the service configs; also shipped in the resources. */
  stackDir?: string;
  /** Keep log lines off stderr (the CLI's --json mode). */
  quiet?: boolean;
  /** The station's closed loop (tests give a stand-in). */
  onlineChecker?: OnlineChecker;
}

export interface Host {
  readonly handlers: Handlers;
  readonly bus: EventBus;
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly profiles: Profiles;
  readonly stackCredentials: StackCredentials;
  /** Broker logins per device; the release step calls `ensure(deviceId)`. */
  readonly deviceAccounts: DeviceAccounts;
  /** The labs' flash stations: long-running hosts call `resume()` at start. */
  readonly station: Station;
  /** The station's closed loop: a board is online at its first telemetry under its own id. */
  readonly onlineChecker: OnlineChecker;
  /** Validates and runs one request from an untrusted transport. */
  call(name: unknown, args: unknown): Promise<Reply<unknown>>;
  /**
   * Teaches the redactor every secret this data folder keeps in the keychain (and no other
   * folder's), so output can never show one. Long-running hosts await it before serving; a missing
   * keychain is logged (unless `quiet`), not fatal.
   */
  loadSecrets(options?: { quiet?: boolean }): Promise<void>;
}

export function createHost(options: HostOptions): Host {
  const env = options.env ?? process.env;
  const redactor = new Redactor();
  const bus = new EventBus(redactor);
  const dataDir = options.dataDir ?? defaultDataDir(env);
  // Every process using this data folder appends to its one log file, redacted (logFile.ts).
  const logger = createLogger(bus, redactor, 'core', options.quiet, new LogFile(logFilePath(dataDir), redactor));
  // This data folder's part of the keychain: accounts under its own namespace (folderKeychain.ts).
  const keychain = new FolderKeychain(new Keychain(redactor, undefined, env), dataDir);
  const settingsFile = new SettingsFile(dataDir, keychain);
  const profiles = new Profiles(settingsFile, keychain, redactor, (ids) => bus.emit('profiles.changed', { ids }), {
    lanAddress: () => lanAddresses()[0],
  });
  const arduinoCli = {
    resourcesDir: options.resourcesDir ?? defaultResourcesDir(env),
    configuredPath: env.MAKERDECK_ARDUINO_CLI || undefined,
    dataDir,
    searchPath: env.PATH,
  };
  // MAKERDECK_ARDUINO_CLI_CONFIG, else the data folder's (a lab pack's), looked up per call.
  const arduinoCliConfig = () => arduinoCliConfigFor(env, dataDir);
  const doctorContext = { env, dataDir, arduinoCli };
  const operations = new Operations();
  const stackCredentials = new StackCredentials(keychain, settingsFile.lock);
  const environments = new Environments(settingsFile, keychain, stackCredentials);
  const stack: StackService = new StackService({
    env,
    stackDir: options.stackDir ?? defaultStackDir(),
    credentials: stackCredentials,
    settings: settingsFile,
    operations,
    emit: (p) => bus.emit('stack.progress', p),
    brokerReady: (admin): Promise<string | undefined> =>
      migrateSharedLogin({ accounts: deviceAccounts, keychain, profiles: profileLogins }, admin),
  });
  const deviceAccounts: DeviceAccounts = new DeviceAccounts({
    keychain,
    lock: settingsFile.lock,
    admin: () => stack.brokerAdmin(),
  });
  /** A profile that logs in as its device's own broker user. */
  const profileLogins = {
    list: () => profiles.list(),
    useLogin: (ref: string, login: DeviceLogin) =>
      profiles.save({ ref, fields: { mqttUsername: login.username }, secrets: { mqttPassword: login.password } }),
  };
  const loginView = (deviceId: string, login: DeviceLogin) => ({
    deviceId,
    username: login.username,
    inKeychain: true,
  });
  const monitor = new SerialMonitor({
    lines: (batch) => {
      bus.emit('monitor.lines', batch);
      telemetry.monitorLines(batch); // the serial gateway reads through the monitor
      brokerChecker.monitorLines(batch); // and so do the online check's gateways
    },
    state: (state) => {
      bus.emit('monitor.state', state);
      telemetry.monitorState(state);
      brokerChecker.monitorState(state);
    },
  });
  const telemetry = new TelemetryService({
    environments,
    monitor,
    batch: (batch) => bus.emit('telemetry.batch', batch),
    state: (state) => bus.emit('telemetry.state', state),
    deviceLogin: (deviceId) => deviceAccounts.stored(deviceId), // the gateway publishes as the device
  });
  // The local stack's Telegraf, followed through its log while telemetry is connected, so the
  // Telemetry page can say which series InfluxDB refuses (an attached InfluxDB is not watched).
  let storageWatch: AbortController | undefined;
  const stopStorageWatch = () => {
    storageWatch?.abort();
    storageWatch = undefined;
  };
  const watchStorage = async () => {
    stopStorageWatch();
    const watch = (storageWatch = new AbortController());
    const local = (await environments.view().catch(() => undefined))?.kind === 'local';
    if (watch.signal.aborted) return; // disconnected or connected again meanwhile
    telemetry.setTelegrafLoss(undefined, local);
    if (local)
      await stack.watchTelegraf((loss) => watch.signal.aborted || telemetry.setTelegrafLoss(loss), watch.signal);
  };
  const firmware = new FirmwareService({
    profiles,
    operations,
    monitor,
    arduinoCli,
    arduinoCliConfig,
    sketchDir: options.firmwareDir ?? defaultFirmwareDir(env),
    buildCacheDir: defaultBuildCacheDir(env),
    deviceLogins: deviceAccounts, // a release creates or reuses the device's broker user
    emit: (progress) => bus.emit('firmware.progress', progress),
  });
  const device = new DeviceService({ profiles, monitor });
  const boards = new BoardCores({
    arduinoCli,
    arduinoCliConfig,
    operations,
    emit: (progress) => bus.emit('boards.progress', progress),
  });

  const packs = new PackService({
    cli: new PackCli(arduinoCli, arduinoCliConfig),
    resourcesDir: arduinoCli.resourcesDir,
    buildCacheDir: defaultBuildCacheDir(env),
    images: {
      sizes: (profile) => stack.imageSizes(profile),
      save: (profile, file) => stack.exportImages(file, profile),
    },
    profiles: {
      idOf: (ref) =>
        profiles.get(ref).then(
          (p) => p.id,
          () => undefined,
        ),
      exportEncrypted: async (ref, passphrase) => (await profiles.export(ref, passphrase)).content,
    },
    operations,
    emit: (progress) => bus.emit('pack.progress', progress),
  });

  const listPorts = async () =>
    (await listSerialPorts(portListerFor(env))).map(({ access, ...port }) => ({ ...port, canOpen: access?.canOpen }));
  const portWatch = new PortWatch({ list: listPorts, changed: (ports) => bus.emit('serial.ports', ports) });

  // One broker connection for all of a station's waits; AVR boards publish through a gateway as themselves.
  const brokerChecker = new BrokerOnlineChecker({
    broker: async () => (await environments.endpoints()).mqtt,
    deviceLogin: (deviceId) => deviceAccounts.stored(deviceId),
    monitor,
  });
  const onlineChecker = options.onlineChecker ?? brokerChecker;
  const labStore = new LabStore(dataDir, settingsFile.lock);
  const labs = new LabService({ store: labStore, profiles });
  const station = new Station({
    store: labStore,
    emit: (view) => bus.emit('lab.station', view),
    listPorts: () => listSerialPorts(portListerFor(env)),
    flash: (request) => firmware.flash(request),
    cancel: (operationId) => void operations.cancel(operationId),
    onProgress: (listener) => bus.on('firmware.progress', listener),
    online: onlineChecker,
    // On the local stack every board logs in as its own broker user; an attached broker's login is the template's.
    ownLogin: async () => (await environments.view()).kind === 'local',
  });
  const labReset = {
    store: labStore,
    accounts: {
      check: async () => void (await listUsers(await stack.brokerAdmin())),
      withdraw: (deviceId: string) => deviceAccounts.withdraw(deviceId),
      username: (deviceId: string) => deviceAccounts.username(deviceId),
    },
    data: {
      check: async () => checkInflux((await environments.endpoints()).influx),
      drop: async (deviceIds: string[]) => deleteDevicePoints((await environments.endpoints()).influx, deviceIds),
    },
  };

  // A pack's cores go into the data folder's arduino-cli home, whatever MAKERDECK_ARDUINO_CLI_CONFIG says.
  const packCores = new BoardCores({
    arduinoCli,
    arduinoCliConfig: async () => arduinoCliHome(dataDir).configFile,
    operations,
    emit: (progress) => bus.emit('boards.progress', progress),
  });
  const packImportDeps: PackImportDeps = {
    dataDir,
    buildCacheDir: defaultBuildCacheDir(env),
    operations,
    emit: (progress) => bus.emit('pack.progress', progress),
    installCore: async (folder, core, version, signal) => {
      const installed = (await packCores.list()).find((c) => c.id === core)?.installed;
      if (installed && installed === version) return { result: 'already', detail: `${core}@${installed}` };
      const operationId = randomUUID();
      const cancel = () => operations.cancel(operationId);
      signal.addEventListener('abort', cancel, { once: true });
      try {
        const summary = await packCores.installFrom({ operationId, path: folder, core });
        return { result: 'done', detail: summary.installed.join(', ') };
      } finally {
        signal.removeEventListener('abort', cancel);
      }
    },
    loadImages: (file) => stack.importImages(file),
    profiles,
  };

  const handlers: Handlers = {
    'app.info': async () => ({
      name: 'Makerdeck',
      version: APP_VERSION,
      host: options.kind,
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      logFile: logFilePath(dataDir),
    }),
    'doctor.run': (args) =>
      runDoctor(doctorContext, { only: args.only, onCheck: (check) => bus.emit('doctor.check', check) }),
    'profiles.list': () => profiles.list(),
    'profiles.get': ({ ref }) => profiles.get(ref),
    'profiles.save': async ({ stackDeviceLogin, ...args }) => {
      if (!stackDeviceLogin) return profiles.save(args);
      // The device's own broker login (the stack must be up): its id may change in this same save.
      const deviceId = args.fields.deviceId ?? (args.ref ? (await profiles.get(args.ref)).deviceId : undefined);
      if (!deviceId) throw new MakerdeckError('BAD_INPUT', 'Give the profile a device id for its broker login');
      const login = await deviceAccounts.ensure(deviceId);
      const secrets = { ...args.secrets, mqttPassword: login.password };
      return profiles.save({ ...args, fields: { ...args.fields, mqttUsername: login.username }, secrets });
    },
    'profiles.duplicate': ({ ref, name }) => profiles.duplicate(ref, name),
    'profiles.delete': ({ ref }) => profiles.remove(ref),
    'profiles.export': ({ ref, passphrase }) => profiles.export(ref, passphrase),
    'profiles.import': ({ content, passphrase, name, mqttHost }) =>
      profiles.import(content, passphrase, name, mqttHost),
    'serial.list': listPorts,
    'serial.watch': () => portWatch.watch(),
    'firmware.compile': (args) => firmware.compile(args),
    'firmware.uploadBegin': async ({ fileName, bytes }) => firmware.uploads.begin(fileName, bytes),
    'firmware.uploadChunk': async ({ uploadId, offset, dataBase64 }) =>
      firmware.uploads.chunk(uploadId, offset, dataBase64),
    'firmware.uploadFinish': async ({ uploadId, sha256 }) => firmware.uploads.finish(uploadId, sha256),
    'firmware.flash': (args) => firmware.flash(args),
    'monitor.open': ({ port, baudRate }) => monitor.open(port, baudRate),
    'monitor.send': async ({ sessionId, line, ending }) => (
      await monitor.send(sessionId, line, ending),
      { sent: true as const }
    ),
    'monitor.close': async ({ sessionId }) => (await monitor.close(sessionId), { closed: true as const }),
    'stack.up': ({ profile, operationId }) => stack.up(profile, operationId),
    'stack.down': async () => (await stack.down(), { down: true as const }),
    'stack.reset': async () => (await stack.down(true), { reset: true as const }),
    'stack.status': ({ profile }) => stack.status(profile),
    'stack.stop': async ({ service }) => (await stack.stop(service), { stopped: service }),
    'stack.restart': async ({ service, operationId }) => (
      await stack.restart(service, operationId),
      { restarted: service }
    ),
    'stack.logs': async ({ service, tail }) => ({ service, lines: await stack.logs(service, tail) }),
    'stack.followLogs': async ({ service, tail, operationId }) => {
      await stack.followLogs(service, tail, operationId, (lines) =>
        bus.emit('stack.log', { operationId, service, lines }),
      );
      return { service, ended: true as const };
    },
    'stack.exportImages': ({ file, profile }) => stack.exportImages(file, profile),
    'stack.importImages': async ({ file }) => ({ images: await stack.importImages(file) }),
    'telemetry.connect': async ({ protocolVersion, connectTimeoutMs }) => {
      const state = await telemetry.connect(protocolVersion, connectTimeoutMs);
      void watchStorage().catch(() => undefined); // its state follows as telemetry.state events
      return state;
    },
    'telemetry.disconnect': () => (stopStorageWatch(), telemetry.disconnect()),
    'telemetry.status': async () => telemetry.status(),
    'telemetry.window': async ({ series, from, to }) => telemetry.window(series, from, to),
    'telemetry.history': (query) => telemetry.history(query),
    'telemetry.catalog': ({ from, to }) => telemetry.catalog(from, to),
    'telemetry.gatewayStart': ({ port, baudRate }) => telemetry.startGateway(port, baudRate),
    'telemetry.gatewayStop': () => telemetry.stopGateway(),
    'environment.get': () => environments.view(),
    'environment.set': ({ environment, secrets }) => environments.set(environment, secrets),
    'operations.cancel': async ({ operationId }) => ({ cancelled: operations.cancel(operationId) }),
    'boards.list': ({ all }) => boards.list(all),
    'boards.install': (args) => boards.install(args),
    'boards.installFrom': (args) => boards.installFrom(args),
    'boards.remove': ({ core }) => boards.remove(core),
    'boards.updateIndex': () => boards.updateIndex(),
    'boards.addIndex': ({ url }) => boards.addIndex(url),
    'devices.loginList': () => deviceAccounts.list(),
    'devices.loginCreate': async ({ deviceId }) => loginView(deviceId, await deviceAccounts.ensure(deviceId)),
    'devices.loginRotate': async ({ deviceId }) => {
      const login = await deviceAccounts.rotate(deviceId);
      // Profiles that log in as this device take the new password too (the next flash stamps it).
      for (const p of await profiles.list())
        if (p.mqttUsername === login.username) await profileLogins.useLogin(p.id, login);
      return loginView(deviceId, login);
    },
    'devices.loginRevoke': async ({ deviceId }) => ({ deviceId, revoked: await deviceAccounts.revoke(deviceId) }),
    'stack.lan': () => stack.lan(),
    'stack.setLan': ({ enabled, operationId }) => stack.setLan(enabled, operationId),
    'profiles.defaults': () => profileDefaults(environments),
    'device.info': (args) => device.info(args),
    'device.provision': (args) => device.provision(args),
    'device.scan': (args) => device.scan(args),
    'pack.plan': (args) => packs.plan(args),
    'pack.create': (args) => packs.create(args),
    'pack.inspect': ({ file }) => packs.inspect(file),
    'pack.import': (args) => importPack(packImportDeps, args),
    'firmware.builds': () => firmware.builds(),
    'lab.list': () => labs.list(),
    'lab.get': ({ lab }) => labs.get(lab),
    'lab.create': (args) => labs.create(args),
    'lab.importRoster': ({ lab, csv }) => labs.importRoster(lab, csv),
    'lab.delete': ({ lab }) => labs.remove(lab),
    'lab.stationStart': (args) => station.start(args),
    'lab.stationStop': ({ lab }) => station.stop(lab),
    'lab.stationStatus': ({ lab }) => station.status(lab),
    'lab.retry': ({ lab, deviceId }) => station.retry(lab, deviceId),
    'lab.log': ({ lab }) => labs.log(lab),
    'lab.exportLog': ({ lab, format }) => labs.exportLog(lab, format),
    'lab.reset': (args) => resetLab(labReset, args),
  };

  return {
    handlers,
    bus,
    redactor,
    logger,
    profiles,
    stackCredentials,
    deviceAccounts,
    station,
    onlineChecker,
    call: (name, args) => dispatch(handlers, name, args, redactor, logger),
    loadSecrets: async ({ quiet = false } = {}) => {
      try {
        // Each read teaches the redactor its value (keychain.ts).
        for (const account of folderAccounts(await settingsFile.load())) await keychain.get(account);
      } catch (error) {
        const message = `Secrets could not be loaded from the keychain yet: ${(error as Error).message}`;
        logger.log(quiet ? 'debug' : 'warn', message);
      }
    },
  };
}
