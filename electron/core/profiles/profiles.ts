// Device profiles: non-secret fields in the settings file, secrets only in the keychain under
// "<profile-id>/<field>" in the data folder's namespace. Every change is one settings transaction:
// all-or-nothing across both stores, and never interleaved with another process's change.
import {
  FIELD_LABELS,
  MakerdeckError,
  PROFILE_DEFAULTS,
  ProfileFields,
  SECRET_FIELDS,
  mqttHostProblem,
  type ProfileExport,
  type ProfileImportResult,
  type ProfileView,
  type SecretChanges,
  type SecretField,
} from '../../contract';
import { profileAccount } from '../secrets/accounts';
import type { SecretStore } from '../secrets/keychain';
import type { KeychainChange } from '../secrets/secretChanges';
import type { Redactor } from '../secrets/redactor';
import type { Settings, SettingsChange, SettingsFile, StoredProfile } from '../settings/settingsFile';
import { decodeExport, encodeExport, type PlainSecrets } from './exportFile';

/** Ids that would collide with other capabilities' keychain accounts (stack/…, environment/…, doctor/…, journal/…). */
const RESERVED_IDS = new Set(['stack', 'environment', 'doctor', 'journal']);

/** The profile's account, relative to the data folder's namespace. */
export const secretAccount = profileAccount;

export interface SaveRequest {
  ref?: string;
  fields: Partial<ProfileFields>;
  secrets: SecretChanges;
}

export interface ProfilesOptions {
  /** This computer's LAN address, named when a Wi-Fi board's loopback MQTT host is refused. */
  lanAddress?: () => string | undefined;
}

export class Profiles {
  constructor(
    private readonly file: SettingsFile,
    /** This data folder's part of the keychain (folderKeychain.ts). */
    private readonly keychain: SecretStore,
    private readonly redactor: Redactor,
    private readonly onChange: (ids: string[]) => void = () => {},
    private readonly options: ProfilesOptions = {},
  ) {}

  async list(): Promise<ProfileView[]> {
    const settings = await this.file.load();
    return Promise.all(settings.profiles.map((profile) => this.view(profile)));
  }

  async get(ref: string): Promise<ProfileView> {
    return this.view(find(await this.file.load(), ref));
  }

  /** The secret values at the moment of use (firmware builds, the MQTT client). */
  async secretsOf(ref: string): Promise<PlainSecrets> {
    const profile = find(await this.file.load(), ref);
    const secrets: PlainSecrets = {};
    for (const field of SECRET_FIELDS) secrets[field] = await this.keychain.get(secretAccount(profile.id, field));
    return secrets;
  }

  save(request: SaveRequest): Promise<ProfileView> {
    return this.change((settings) => this.saveIn(settings, request));
  }

  /** A copy under a new name, secrets included; its device id follows the new name so two boards never share a topic. */
  duplicate(ref: string, name: string): Promise<ProfileView> {
    return this.change(async (settings) => {
      const source = find(settings, ref);
      const secrets: SecretChanges = {};
      for (const field of SECRET_FIELDS) secrets[field] = await this.keychain.get(secretAccount(source.id, field));
      return this.saveIn(settings, { fields: { ...fieldsOf(source), name, deviceId: slug(name) }, secrets });
    });
  }

  async remove(ref: string): Promise<{ id: string }> {
    const removed = await this.change(async (settings) => {
      const profile = find(settings, ref);
      const secrets = SECRET_FIELDS.map((field) => ({ account: secretAccount(profile.id, field), value: null }));
      const result = { ...profile, secrets: { wifiPassword: false, mqttPassword: false } };
      const profiles = settings.profiles.filter((p) => p.id !== profile.id);
      return { settings: { ...settings, profiles }, result, secrets };
    });
    return { id: removed.id };
  }

  async export(ref: string, passphrase?: string): Promise<ProfileExport> {
    const profile = find(await this.file.load(), ref);
    if (passphrase) this.redactor.add(passphrase);
    const secrets = passphrase ? await this.secretsOf(profile.id) : {};
    const content = await encodeExport(fieldsOf(profile), secrets, passphrase);
    return { fileName: `${profile.id}.makerdeck-profile.json`, content, encrypted: passphrase !== undefined };
  }

  /**
   * A new profile from an export file. Refused like a save when its MQTT host cannot work on its
   * board (`mqttHost` replaces the file's); a device id another profile uses already is imported
   * with a warning naming that profile, since two boards on one id share one topic.
   */
  async import(content: string, passphrase?: string, name?: string, mqttHost?: string): Promise<ProfileImportResult> {
    if (passphrase) this.redactor.add(passphrase);
    const decoded = await decodeExport(content, passphrase);
    for (const value of Object.values(decoded.secrets)) if (value) this.redactor.add(value);
    const fields = { ...decoded.profile, ...(name ? { name } : {}), ...(mqttHost ? { mqttHost } : {}) };
    const problem = mqttHostProblem(fields, this.options.lanAddress?.());
    if (problem) {
      const how =
        'import it with another MQTT host (makerdeck profile import FILE --mqtt-host ADDRESS, or the import form)';
      throw new MakerdeckError('BAD_INPUT', `${problem}: ${how}. Nothing was imported`);
    }
    return this.change(async (settings) => {
      const saved = await this.saveIn(settings, { fields, secrets: decoded.secrets });
      const twin = settings.profiles.find((p) => p.deviceId === fields.deviceId);
      const warnings = twin
        ? [
            `The device id "${fields.deviceId}" is used by the profile "${twin.name}" already: two boards on one id ` +
              'share one topic, so give one of them another ' +
              `(makerdeck profile set "${saved.result.name}" --device-id NEW-ID)`,
          ]
        : [];
      return { ...saved, result: { ...saved.result, warnings } };
    });
  }

  /** The new settings and keychain changes for one save, computed inside the settings lock. */
  private async saveIn(settings: Settings, request: SaveRequest): Promise<SettingsChange<ProfileView>> {
    const existing = request.ref === undefined ? undefined : find(settings, request.ref);
    const fields = validate(
      { ...(existing ? fieldsOf(existing) : PROFILE_DEFAULTS), ...request.fields },
      this.options.lanAddress?.(),
    );
    assertNameFree(settings, fields.name, existing?.id);
    const id = existing?.id ?? newId(fields.name, settings);
    // Read first: this also proves the keychain answers before anything is changed.
    const before = await this.secretState(id);
    const stored: StoredProfile = { ...fields, id, updatedAt: new Date().toISOString() };
    const profiles = existing
      ? settings.profiles.map((p) => (p.id === id ? stored : p))
      : [...settings.profiles, stored];
    const asked = request.secrets;
    const stateOf = (field: SecretField) => (asked[field] === undefined ? before[field] : asked[field] !== null);
    const secrets = Object.fromEntries(SECRET_FIELDS.map((field) => [field, stateOf(field)]));
    const result = { ...stored, secrets: secrets as Record<SecretField, boolean> };
    return { settings: { ...settings, profiles }, result, secrets: keychainChanges(id, asked) };
  }

  /** Runs one settings transaction (settingsFile.ts); on any failure the keychain and the file are as they were. */
  private async change<T extends ProfileView>(work: (settings: Settings) => Promise<SettingsChange<T>>): Promise<T> {
    const result = await this.file.update(work);
    this.onChange([result.id]);
    return result;
  }

  private async view(profile: StoredProfile): Promise<ProfileView> {
    return { ...profile, secrets: await this.secretState(profile.id) };
  }

  /** Which secrets are stored: the profile's own entries only, as listing the whole service races with other writers. */
  private async secretState(id: string): Promise<Record<SecretField, boolean>> {
    const state = {} as Record<SecretField, boolean>;
    for (const field of SECRET_FIELDS) state[field] = (await this.keychain.get(secretAccount(id, field))) !== undefined;
    return state;
  }
}

/** The fields checked against the schema, then against the board (mqttHostProblem: UI, CLI and import alike). */
function validate(candidate: unknown, lanAddress?: string): ProfileFields {
  const parsed = ProfileFields.safeParse(candidate);
  if (parsed.success) {
    const problem = mqttHostProblem(parsed.data, lanAddress);
    if (problem) throw new MakerdeckError('BAD_INPUT', problem);
    return parsed.data;
  }
  const issue = parsed.error.issues[0]!;
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  const label = FIELD_LABELS[issue.path[0] as keyof ProfileFields] ?? String(issue.path[0]);
  throw new MakerdeckError('BAD_INPUT', missing ? `Set the profile's ${label}: it is required` : issue.message);
}

function fieldsOf(profile: StoredProfile): ProfileFields {
  const { id: _id, updatedAt: _updatedAt, ...fields } = profile;
  return fields;
}

function keychainChanges(id: string, secrets: SecretChanges): KeychainChange[] {
  return SECRET_FIELDS.filter((field) => secrets[field] !== undefined).map((field) => ({
    account: secretAccount(id, field),
    value: secrets[field] ?? null,
  }));
}

function find(settings: Settings, ref: string): StoredProfile {
  const found =
    settings.profiles.find((p) => p.id === ref) ??
    settings.profiles.find((p) => p.name === ref) ??
    settings.profiles.find((p) => p.name.toLowerCase() === ref.toLowerCase());
  if (!found)
    throw new MakerdeckError('NOT_FOUND', `No profile "${ref}": makerdeck profile list shows the ones there are`);
  return found;
}

function assertNameFree(settings: Settings, name: string, selfId?: string): void {
  const clash = settings.profiles.find((p) => p.id !== selfId && p.name.toLowerCase() === name.toLowerCase());
  if (clash)
    throw new MakerdeckError('BAD_INPUT', `A profile named "${clash.name}" exists already: choose another name`);
}

function slug(name: string): string {
  return (
    name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'profile'
  );
}

function newId(name: string, settings: Settings): string {
  const base = slug(name);
  const taken = (id: string) => RESERVED_IDS.has(id) || settings.profiles.some((p) => p.id === id);
  let id = base;
  for (let n = 2; taken(id); n++) id = `${base}-${n}`;
  return id;
}
