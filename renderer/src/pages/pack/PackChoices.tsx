import type { BoardCoreView } from '../../../../electron/contract/boards';
import type { CachedBuildView } from '../../../../electron/contract/firmware';
import { CliTarget } from '../../../../electron/contract/pack';
import type { ProfileView } from '../../../../electron/contract/profiles';
import { cachedBuildDetails } from './cachedBuildDetails';
import type { PackForm } from './packContents';

interface Props {
  form: PackForm;
  onChange(form: PackForm): void;
  /** The installed cores, or the one line saying why they cannot be listed. */
  cores: BoardCoreView[] | string;
  /** The cached builds, newest first, or the one line saying why they cannot be listed. */
  builds: CachedBuildView[] | string;
  profiles: ProfileView[];
  /** This machine's arduino-cli target, where it is one a pack can carry. */
  thisTarget?: CliTarget;
  disabled: boolean;
}

const toggle = <T,>(list: T[], item: T, on: boolean) => (on ? [...list, item] : list.filter((x) => x !== item));

/** What goes into a pack: board cores, libraries, builds, the stack's images, profiles and arduino-cli binaries. */
export function PackChoices({ form, onChange, cores, builds, profiles, thisTarget, disabled }: Props) {
  const set = (change: Partial<PackForm>) => onChange({ ...form, ...change });
  return (
    <div className="pack-choices">
      <fieldset aria-label="Board cores">
        <legend>Board cores (installed)</legend>
        <CoreChoices {...{ form, set, cores, disabled }} />
        <label>
          Libraries (names, comma-separated)
          <input
            value={form.libraries}
            placeholder="PubSubClient, ArduinoJson"
            onChange={(e) => set({ libraries: e.target.value })}
            disabled={disabled}
          />
        </label>
      </fieldset>
      <fieldset aria-label="Firmware builds" className="pack-builds">
        <legend>Firmware builds (cached)</legend>
        <BuildChoices {...{ form, set, builds, disabled }} />
      </fieldset>
      <fieldset aria-label="Stack images">
        <legend>Stack images</legend>
        <label>
          Stack profile
          <select
            value={form.stack}
            onChange={(e) => set({ stack: e.target.value as PackForm['stack'] })}
            disabled={disabled}
          >
            <option value="">None</option>
            <option value="core">core (broker, InfluxDB, Telegraf)</option>
            <option value="full">full (all seven services)</option>
          </select>
        </label>
      </fieldset>
      <ProfileChoices {...{ form, set, profiles, disabled }} />
      <fieldset aria-label="arduino-cli">
        <legend>arduino-cli for</legend>
        {CliTarget.options.map((target) => (
          <label key={target} className="inline">
            <input
              type="checkbox"
              checked={form.cliTargets.includes(target)}
              onChange={(e) => set({ cliTargets: toggle(form.cliTargets, target, e.target.checked) })}
              disabled={disabled}
            />
            {target}
            {target === thisTarget && <span className="muted"> (this machine)</span>}
          </label>
        ))}
      </fieldset>
    </div>
  );
}

function CoreChoices(props: {
  form: PackForm;
  set(change: Partial<PackForm>): void;
  cores: BoardCoreView[] | string;
  disabled: boolean;
}) {
  const { form, set, cores, disabled } = props;
  if (typeof cores === 'string')
    return (
      <p className="error" data-testid="pack-cores-error">
        {cores}
      </p>
    );
  if (cores.length === 0) return <p className="muted">No board cores installed: install one on the Boards page.</p>;
  return cores.map((c) => (
    <label key={c.id} className="inline">
      <input
        type="checkbox"
        checked={form.cores.includes(c.id)}
        onChange={(e) => set({ cores: toggle(form.cores, c.id, e.target.checked) })}
        disabled={disabled}
      />
      {c.name} <span className="muted">{`${c.id}@${c.installed}`}</span>
    </label>
  ));
}

function BuildChoices(props: {
  form: PackForm;
  set(change: Partial<PackForm>): void;
  builds: CachedBuildView[] | string;
  disabled: boolean;
}) {
  const { form, set, builds, disabled } = props;
  if (typeof builds === 'string')
    return (
      <p className="error" data-testid="pack-builds-error">
        {builds}
      </p>
    );
  if (builds.length === 0)
    return <p className="muted">No cached builds: build the firmware on the Firmware page first.</p>;
  return (
    <>
      <label className="inline">
        <input
          type="checkbox"
          checked={form.allBuilds}
          onChange={(e) => set({ allBuilds: e.target.checked })}
          disabled={disabled}
        />
        Every cached build <span className="muted">(also any built before the pack is written)</span>
      </label>
      {builds.map((b) => (
        <label key={b.key} className="inline" data-build={b.buildHash}>
          <input
            type="checkbox"
            checked={form.allBuilds || form.builds.includes(b.buildHash)}
            onChange={(e) => set({ builds: toggle(form.builds, b.buildHash, e.target.checked) })}
            disabled={disabled || form.allBuilds}
          />
          {b.fqbn} <span className="muted">{cachedBuildDetails(b)}</span>
        </label>
      ))}
    </>
  );
}

function ProfileChoices(props: {
  form: PackForm;
  set(change: Partial<PackForm>): void;
  profiles: ProfileView[];
  disabled: boolean;
}) {
  const { form, set, profiles, disabled } = props;
  return (
    <fieldset aria-label="Profiles">
      <legend>Profiles (encrypted)</legend>
      {profiles.length === 0 && <p className="muted">No profiles yet: make them on the Profiles page.</p>}
      {profiles.map((p) => (
        <label key={p.id} className="inline">
          <input
            type="checkbox"
            checked={form.profiles.includes(p.id)}
            onChange={(e) => set({ profiles: toggle(form.profiles, p.id, e.target.checked) })}
            disabled={disabled}
          />
          {p.name} <span className="muted">{p.board}</span>
        </label>
      ))}
      {form.profiles.length > 0 && (
        <>
          <label>
            Passphrase (seals the profiles&apos; secrets; the import asks for it)
            <input
              type="password"
              autoComplete="new-password"
              value={form.passphrase}
              onChange={(e) => set({ passphrase: e.target.value })}
              disabled={disabled}
            />
          </label>
          <label>
            The same passphrase again
            <input
              type="password"
              autoComplete="new-password"
              value={form.again}
              onChange={(e) => set({ again: e.target.value })}
              disabled={disabled}
            />
          </label>
        </>
      )}
    </fieldset>
  );
}
