// The active environment: the local stack (endpoints on 127.0.0.1, credentials generated per
// install) or attached services whose URLs live in the settings file and whose passwords live in
// the data folder's part of the keychain. MQTT and InfluxDB clients ask `endpoints()` at the moment of use.
import { MakerdeckError, type EnvironmentSettings, type EnvironmentView } from '../../contract';
import { ENVIRONMENT_ACCOUNTS } from '../secrets/accounts';
import type { SecretStore } from '../secrets/keychain';
import type { KeychainChange } from '../secrets/secretChanges';
import type { StackCredentials } from '../secrets/stackCredentials';
import type { SettingsFile } from '../settings/settingsFile';

const MQTT_ACCOUNT = ENVIRONMENT_ACCOUNTS.mqtt;
const INFLUX_ACCOUNT = ENVIRONMENT_ACCOUNTS.influx;

/** The local stack's published ports and users (see stack/compose.yaml). */
const LOCAL = {
  mqttUrl: 'mqtt://127.0.0.1:1883',
  influxUrl: 'http://127.0.0.1:8086',
  database: 'makerdeck',
  user: 'makerdeck',
};

export interface Endpoints {
  kind: 'local' | 'attached';
  mqtt: { url: string; username: string; password?: string };
  influx: { url: string; database: string; username: string; password?: string };
}

export class Environments {
  constructor(
    private readonly file: SettingsFile,
    /** This data folder's part of the keychain (folderKeychain.ts). */
    private readonly keychain: SecretStore,
    private readonly credentials: StackCredentials,
  ) {}

  async view(): Promise<EnvironmentView> {
    const { environment } = await this.file.load();
    if (environment.kind === 'local') {
      return {
        kind: 'local',
        mqtt: {
          url: LOCAL.mqttUrl,
          username: LOCAL.user,
          passwordSet: (await this.credentials.get('rabbitmq-admin')) !== undefined,
        },
        influx: {
          url: LOCAL.influxUrl,
          database: LOCAL.database,
          username: LOCAL.user,
          passwordSet: (await this.credentials.get('influxdb-admin')) !== undefined,
        },
      };
    }
    return {
      kind: 'attached',
      mqtt: {
        url: environment.mqttUrl,
        username: environment.mqttUsername,
        passwordSet: (await this.keychain.get(MQTT_ACCOUNT)) !== undefined,
      },
      influx: {
        url: environment.influxUrl,
        database: environment.influxDatabase,
        username: environment.influxUsername,
        passwordSet: (await this.keychain.get(INFLUX_ACCOUNT)) !== undefined,
      },
    };
  }

  /** Switches environment; settings file and keychain change together or not at all. */
  async set(
    environment: EnvironmentSettings,
    secrets: { mqttPassword?: string | null; influxPassword?: string | null },
  ): Promise<EnvironmentView> {
    if (environment.kind === 'local' && (secrets.mqttPassword || secrets.influxPassword)) {
      throw new MakerdeckError(
        'BAD_INPUT',
        'The local stack generates its own passwords: give passwords only for an attached environment',
      );
    }
    const changes: KeychainChange[] = [];
    if (secrets.mqttPassword !== undefined) changes.push({ account: MQTT_ACCOUNT, value: secrets.mqttPassword });
    if (secrets.influxPassword !== undefined) changes.push({ account: INFLUX_ACCOUNT, value: secrets.influxPassword });
    const change = { result: undefined, secrets: changes };
    await this.file.update(async (settings) => ({ ...change, settings: { ...settings, environment } }));
    return this.view();
  }

  /** The endpoints with their secrets, for a client about to connect. */
  async endpoints(): Promise<Endpoints> {
    const { environment } = await this.file.load();
    if (environment.kind === 'local') {
      return {
        kind: 'local',
        mqtt: { url: LOCAL.mqttUrl, username: LOCAL.user, password: await this.credentials.ensure('rabbitmq-admin') },
        influx: {
          url: LOCAL.influxUrl,
          database: LOCAL.database,
          username: LOCAL.user,
          password: await this.credentials.ensure('influxdb-admin'),
        },
      };
    }
    return {
      kind: 'attached',
      mqtt: {
        url: environment.mqttUrl,
        username: environment.mqttUsername,
        password: await this.keychain.get(MQTT_ACCOUNT),
      },
      influx: {
        url: environment.influxUrl,
        database: environment.influxDatabase,
        username: environment.influxUsername,
        password: await this.keychain.get(INFLUX_ACCOUNT),
      },
    };
  }
}
