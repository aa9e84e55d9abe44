import type { BoardCoreView } from '../../../../electron/contract/boards';
import { CliTarget } from '../../../../electron/contract/pack';
import type { ProfileView } from '../../../../electron/contract/profiles';
import type { PackForm } from './packContents';

interface Props {
  form: PackForm;
  onChange(form: PackForm): void;
  /** The installed cores, or the one line saying why they cannot be listed. */
  cores: BoardCoreView[] | string;
  profiles: ProfileView[];
  /** This machine's arduino-cli target, where it is one a pack can carry. */
  thisTarget?: CliTarget;
  disabled: boolean;
}

const toggle = <T,>(list: T[], item: T, on: boolean) => (on ? [...list, item] : list.filter((x) => x !== item));

/** What goes into a pack: board cores, libraries, builds, the stack's images, profiles and arduino-cli binaries. */
export function PackChoices({ form, onChange, cores, profiles, thisTarget, disabled }: Props) {
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
      <fieldset aria-label="Firmware builds">
        <legend>Firmware builds (cached)</legend>
        {(['none', 'all', 'some'] as const).map((choice) => (
          <label key={choice} className="inline">
            <input
              type="radio"
              name="pack-builds"
              checked={form.builds === choice}
              onChange={() => set({ builds: choice })}
              disabled={disabled}
            />
            {{ none: 'None', all: 'Every cached build', some: 'These builds' }[choice]}
          </label>
        ))}
        {form.builds === 'some' && (
          <label>
            Build hashes (the Firmware page's Build shows each)
            <input
              value={form.buildHashes}
              placeholder="3f9a1c0b2d4e5f60, …"
              onChange={(e) => set({ buildHashes: e.target.value })}
              disabled={disabled}
            />
          </label>
        )}
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
