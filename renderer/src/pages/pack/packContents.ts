// What the Create form holds, turned into the pack.plan / pack.create arguments. The page checks
// only what the host cannot see (the passphrase typed twice, a file named); the host checks the rest.
import type { ArgsOf } from '../../../../electron/contract/api';
import type { CliTarget } from '../../../../electron/contract/pack';

export interface PackForm {
  cores: string[];
  /** Library names, separated by commas or new lines. */
  libraries: string;
  /** Every cached build, sent as "all" (the ones ticked then do not matter). */
  allBuilds: boolean;
  /** The hashes of the cached builds ticked (firmware.builds lists them). */
  builds: string[];
  stack: '' | 'core' | 'full';
  profiles: string[];
  passphrase: string;
  again: string;
  cliTargets: CliTarget[];
}

export const EMPTY_PACK_FORM: PackForm = {
  cores: [],
  libraries: '',
  allBuilds: false,
  builds: [],
  stack: '',
  profiles: [],
  passphrase: '',
  again: '',
  cliTargets: [],
};

const words = (text: string, separators: RegExp) =>
  text
    .split(separators)
    .map((w) => w.trim())
    .filter(Boolean);

/** The contents to plan or create; throws one line when the passphrases differ or profiles lack one. */
export function packContents(form: PackForm): ArgsOf<'pack.plan'> {
  const profiles = form.profiles.length > 0;
  if (profiles && !form.passphrase)
    throw new Error('Profiles go into a pack encrypted: type a passphrase (twice) to seal their secrets');
  if (profiles && form.passphrase !== form.again)
    throw new Error('The two passphrases differ: nothing was written; type the same one twice');
  return {
    cores: form.cores,
    libraries: words(form.libraries, /[,\n]+/),
    builds: form.allBuilds ? 'all' : form.builds,
    stack: form.stack || undefined,
    profiles: form.profiles,
    passphrase: profiles ? form.passphrase : undefined,
    cliTargets: form.cliTargets,
  };
}

/** The pack file's path as typed, trimmed; throws one line when there is none. */
export function packFile(path: string): string {
  const file = path.trim();
  if (!file)
    throw new Error('Name the pack file: a path on the machine running Makerdeck, e.g. /media/usb/room3.mdpack');
  return file;
}
