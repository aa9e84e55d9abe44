// A hostile-request corpus over every request of the contract (iterated, so a new request is fuzzed
// without touching this file): wrong types, missing and extra keys, lone surrogates and control
// characters in every string position, huge strings, deep and huge arrays and objects, secret-named
// keys at every depth, prototype keys, number edge cases. Arguments are JSON text, as a transport
// receives them: JSON can say 1e309 (Infinity once parsed), -0 and duplicate keys, and a 100,000-deep
// array that JSON.stringify could not even produce.
import { ERROR_CODES, requestNames, requests, type Reply } from '../../electron/contract';
import { seededRandom } from './fuzz';
import { fieldsOf } from './schemas';

export interface FuzzCase {
  name: string;
  /** JSON text of the arguments; undefined sends none. */
  argsJson: string | undefined;
  /** Secret values inside argsJson: none may come back in any reply or event. */
  secrets: string[];
  /** Values that a refusal must not quote (a validation message names the field, never the value). */
  markers?: string[];
  label: string;
  /** Whether the contract's own schema accepts the arguments (then the handler runs). */
  valid: boolean;
}

/** Requests that only read, or address what the fuzzer cannot have created: safe to run with valid args. */
export const READ_ONLY_REQUESTS = new Set([
  'app.info',
  'profiles.list',
  'profiles.get',
  'profiles.export',
  'serial.list',
  'monitor.send',
  'monitor.close',
  'telemetry.status',
  'telemetry.window',
  'environment.get',
  'operations.cancel',
  'stack.lan',
  'profiles.defaults',
  'firmware.builds',
  'pack.inspect',
]);

const SECRET_KEYS = ['password', 'passphrase', 'wifiPassword', 'mqttPassword', 'influxPassword', 'secret', 'token'];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];

const NASTY_STRINGS = [
  '',
  ' ',
  '\uD800',
  '\uDFFF',
  'ab\uD83Dcd',
  'x\uDE00y',
  '\uDE00\uD83D',
  '\u0000',
  'line\nbreak\r\n',
  '\u001b[31mred\u001b[0m',
  '\u2028\u2029',
  '\u202Eevil',
  '\uFEFF',
  '%s%n%x',
  '${7*7}{{7*7}}',
  '../../../../etc/passwd',
  'C:\\Windows\\System32',
  '__proto__',
  'constructor',
  'app.info',
  '😀'.repeat(40),
  'é'.repeat(300),
];

// As JSON text: 1e309 parses to Infinity, 1e-400 to 0, 9007199254740993 loses its last digit.
const NUMBER_TEXTS = ['-0', '1e309', '-1e309', '9007199254740993', '-9007199254740993', '1.5', '4.9e-324', '1e-400'];
const FIELD_VALUES = [
  ...[JSON.stringify('\uD800'), JSON.stringify('a\uDC00b\u0000\n'), '1e309', '-0', '1.5', '9007199254740993'],
  ...['{}', '[]', 'null'],
];
const HOSTILE_NAMES = ['', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'app.info\u0000', '\uD800'];

/** Builds the corpus: the fixed cases for every request plus `randomPerRequest` random ones each. */
export function requestCorpus(seed: number, randomPerRequest: number): FuzzCase[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const randomId = () =>
    Math.floor(random() * 2 ** 40)
      .toString(36)
      .padStart(8, '0');
  let secretCount = 0;

  const secretText = () => {
    // At least 8 characters; some carry a lone surrogate or a control character, as an attacker would.
    const core = `fz${(++secretCount).toString(36)}-${randomId()}`;
    return pick([core, `${core}\uD800`, `\uDC00${core}`, `${core}\u0000x`, `${core} é/+=%`]);
  };
  const str = (text: string) => JSON.stringify(text);

  // Every case stays under serve's 1 MiB frame limit: at most one big value each, ~400 KB at most.
  // The big values are the same texts each time, so an in-process run parses each once (parseArgs).
  const hugeString = () => HUGE_STRINGS[Math.floor(random() * HUGE_STRINGS.length)]!;
  const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const hugeArray = () => HUGE_ARRAY;
  const hugeObject = () => HUGE_OBJECT;
  const protoObject = () => `{${PROTO_KEYS.map((key) => `${str(key)}:{"polluted":1,"prototype":{"a":1}}`).join(',')}}`;

  /** Secret-named keys at every depth down to `depth`, each holding a fresh secret. */
  const secretNest = (secrets: string[], depth: number): string => {
    const secret = secretText();
    secrets.push(secret);
    if (depth === 0) return `{${str(pick(SECRET_KEYS))}:${str(secret)}}`;
    const deeper = secretNest(secrets, depth - 1);
    return `{${str(pick(SECRET_KEYS))}:${str(secret)},"nested":${random() < 0.5 ? `[${deeper}]` : deeper}}`;
  };

  const scalar = () => pick([str(pick(NASTY_STRINGS)), pick(NUMBER_TEXTS), pick(['true', 'false', 'null']), '[]']);
  const small = (secrets: string[]) => {
    const nest = () => secretNest(secrets, pick([0, 3, 12]));
    return pick([scalar, scalar, scalar, protoObject, nest, () => `[${scalar()},${scalar()}]`])();
  };
  const big = () => {
    const deep = () => (random() < 0.5 ? deepArray(pick([1_000, 100_000])) : deepObject(pick([1_000, 20_000])));
    return pick([hugeString, deep, hugeArray, hugeObject])();
  };

  // One flood frame for all requests (its 6,000 secrets need checking only once per reply).
  const floodSecrets = Array.from({ length: 6000 }, (_, i) => `fl${i.toString(36)}-${randomId()}`);
  const floodText = `{"items":[${floodSecrets.map((secret) => `{"password":${str(secret)}}`).join(',')}]}`;

  const cases: FuzzCase[] = [];
  const add = (
    name: string,
    argsJson: string | undefined,
    label: string,
    secrets: string[] = [],
    markers?: string[],
  ) => {
    cases.push({ name, argsJson, secrets, markers, label: `${name}: ${label}`, valid: isValid(name, argsJson) });
  };

  for (const name of requestNames) {
    const fields = fieldsOf(requests[name].args);
    const top = [...new Set(fields.filter((f) => !f.path.includes('.')).map((f) => f.path))];
    const declared = requests[name].secrets ?? [];

    // Not an object at all.
    for (const text of ['null', 'true', '-0', '1e309', '""', str('\uD800'), '[]', '[{}]', DEEP_ARRAY, HUGE_ARRAY]) {
      add(name, text, `args ${text.slice(0, 12)}`);
    }
    add(name, hugeString(), 'args a huge string');
    add(name, undefined, 'no args');
    add(name, '{}', 'empty object');
    add(name, protoObject(), 'prototype keys');
    add(name, hugeObject(), '10,000 unknown keys');
    const nest: string[] = [];
    add(name, secretNest(nest, 12), 'secret-named keys 13 deep', nest);
    add(name, floodText, '6,000 secret-named values in one frame (the red-team flood)', floodSecrets);
    // Duplicate keys: JSON.parse keeps the last.
    if (top[0]) add(name, `{${str(top[0])}:"x",${str(top[0])}:${deepArray(1000)}}`, `duplicate key ${top[0]}`);

    // Every field: each hostile value in turn, the other fields left out or hostile too.
    for (const field of fields) {
      for (const text of [...FIELD_VALUES, hugeString()]) {
        add(name, nestAt(field.path, text, str), `${field.path} = ${text.slice(0, 16)}`);
      }
      // Values a string field refuses (control character, too long): the refusal must not quote them.
      for (const marker of [`mk${randomId()}\u0000`, `mk${randomId()}`.padEnd(100_000, '.')]) {
        add(name, nestAt(field.path, str(marker), str), `${field.path} = a marked value`, [], [marker.slice(0, 10)]);
      }
    }
    // Declared secret fields: hostile secrets, in requests refused for an unknown key.
    for (const path of declared) {
      const secret = secretText();
      const refused = `{"__extra__":1,${nestAt(path, str(secret), str).slice(1)}`;
      add(name, refused, `declared secret ${path}, refused`, [secret]);
    }

    for (let i = 0; i < randomPerRequest; i++) {
      const secrets: string[] = [];
      const keys = top.filter(() => random() < 0.7);
      if (random() < 0.4) keys.push(pick(SECRET_KEYS));
      if (random() < 0.3) keys.push(pick(PROTO_KEYS));
      let bigOne = random() < 0.15;
      const value = (key: string) => {
        if (SECRET_KEYS.includes(key)) return str(pushed(secrets, secretText()));
        if (!bigOne) return small(secrets);
        bigOne = false;
        return big();
      };
      const body = keys.map((key) => `${str(key)}:${value(key)}`);
      add(name, `{${body.join(',')}}`, `random #${i} (${keys.join(', ')})`, secrets);
    }
  }

  // Names: unknown, hostile, close to real ones.
  for (const name of [...HOSTILE_NAMES, 'a'.repeat(100_000), 'profiles.get/../app.info', 'shell.exec']) {
    add(name, '{}', `name ${JSON.stringify(name.slice(0, 20))}`);
  }
  return cases;
}

function pushed<T>(list: T[], item: T): T {
  list.push(item);
  return item;
}

/** JSON text with `value` at a dotted path (`[]` for an array element). */
function nestAt(path: string, value: string, str: (text: string) => string): string {
  return path.split('.').reduceRight((inner, key) => (key === '[]' ? `[${inner}]` : `{${str(key)}:${inner}}`), value);
}

const HUGE_STRINGS = ['A', 'é', '\uD800', '\n'].map((char) => JSON.stringify(char.repeat(70_000)));
const DEEP_ARRAY = '['.repeat(100_000) + ']'.repeat(100_000);
const HUGE_ARRAY = `[${Array.from({ length: 100_000 }, (_, i) => ['0', '""', '{}', 'null'][i % 4]).join(',')}]`;
const HUGE_OBJECT = `{${Array.from({ length: 10_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;

const parsed = new Map<string, unknown>();

/** The arguments as a transport's JSON.parse gives them; big texts are parsed once (zod does not mutate them). */
export function parseArgs(argsJson: string | undefined): unknown {
  if (argsJson === undefined) return undefined;
  if (argsJson.length < 50_000) return JSON.parse(argsJson);
  if (!parsed.has(argsJson)) parsed.set(argsJson, JSON.parse(argsJson));
  return parsed.get(argsJson);
}

function isValid(name: string, argsJson: string | undefined): boolean {
  if (!Object.hasOwn(requests, name)) return false;
  return requests[name as keyof typeof requests].args.safeParse(parseArgs(argsJson)).success;
}

/** Every fuzz secret has one of these at its core: a cheap way to look for any of them in a lot of text. */
const SECRET_CORE = /f[zl][0-9a-z]+-[0-9a-z]{8,}/g;

/** The secrets of `cases` whose core appears in `text` (raw or JSON-escaped, the core reads the same). */
export function echoedSecrets(cases: readonly FuzzCase[], text: string): string[] {
  const cores = new Map<string, string>();
  for (const secret of cases.flatMap((fuzz) => fuzz.secrets)) cores.set(secret.match(SECRET_CORE)![0], secret);
  const found = [...text.matchAll(SECRET_CORE)].map((match) => cores.get(match[0]));
  return [...new Set(found.filter((secret) => secret !== undefined))];
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with a reply to a fuzz case, or undefined when it is as the contract promises. */
export function replyProblem(fuzz: FuzzCase, reply: unknown): string | undefined {
  const text = JSON.stringify(reply);
  const forms = (secret: string) => [secret, JSON.stringify(secret).slice(1, -1)];
  const echoed = fuzz.secrets.find((secret) => forms(secret).some((form) => text.includes(form)));
  if (echoed !== undefined) return `echoes the secret ${JSON.stringify(echoed)}`;
  const shaped = reply as Reply<unknown>;
  if (typeof shaped?.ok !== 'boolean') return `is not a Reply: ${text.slice(0, 200)}`;
  if (shaped.ok) return fuzz.valid ? undefined : 'succeeded although the schema refuses the arguments';
  const quoted = fuzz.valid ? undefined : fuzz.markers?.find((marker) => text.includes(marker));
  if (quoted) return `quotes the refused value ${quoted} in ${JSON.stringify(shaped.error.message.slice(0, 200))}`;
  const { code, message } = shaped.error ?? {};
  if (!(ERROR_CODES as readonly unknown[]).includes(code)) return `has no stable code: ${String(code)}`;
  if (code === 'INTERNAL') return `is an internal error (a bug): ${message}`;
  const expected = Object.hasOwn(requests, fuzz.name) ? 'BAD_INPUT' : 'UNKNOWN_METHOD';
  if (!fuzz.valid && code !== expected) return `has code ${code} for invalid input, not ${expected}`;
  if (typeof message !== 'string' || message.length === 0 || message.length > 1001) {
    return `has a message of length ${String(message?.length)}`;
  }
  if (CONTROL.test(message)) return `has control characters in its message: ${JSON.stringify(message.slice(0, 200))}`;
  if (LONE_SURROGATE.test(message)) return 'has a lone surrogate in its message';
  return undefined;
}

/** Random cases per request on top of the fixed ones; the unit and integration runs use the same corpus. */
export const FUZZ_RANDOM_PER_REQUEST = 24;

/** The seed: MAKERDECK_FUZZ_SEED to replay or explore, a fixed default so runs are reproducible. */
export function fuzzSeed(): number {
  const given = Number(process.env.MAKERDECK_FUZZ_SEED);
  return Number.isSafeInteger(given) && given > 0 ? given : 20_100_010;
}
