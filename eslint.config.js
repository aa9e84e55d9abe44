// Lint: typescript-eslint's recommended rules plus the house's architecture, written as rules so a
// pull request that breaks a boundary fails CI (see ../shared/design and the README's architecture).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Capabilities: each owns one job and does not reach into another's files. */
const CAPABILITIES = ['doctor', 'firmware', 'stack', 'telemetry', 'boards', 'device', 'lab', 'pack'];
/** Shared parts every capability may use; they must not depend on a capability. */
const SHARED = ['serial', 'secrets', 'settings', 'profiles', 'lineProtocol'];
/** Capability-to-capability imports allowed by name: [from capability, file it may import]. */
const ALLOWED = {
  doctor: ['../firmware/arduinoCli.ts', '../firmware/arduinoCliHome.ts', '../stack/dockerClient.ts'],
  telemetry: ['../stack/environment.ts', '../stack/telegrafLog.ts'],
  firmware: [],
  stack: [],
  boards: ['../firmware/arduinoCli.ts'],
  device: [],
  lab: [
    '../firmware/firmwareService.ts',
    '../stack/deviceAccounts.ts',
    '../stack/environment.ts',
    '../firmware/avrBoards.ts',
  ],
  pack: [
    '../boards/arduinoCliRunner.ts',
    '../boards/offlineFolder.ts',
    '../firmware/arduinoCli.ts',
    '../firmware/arduinoCliHome.ts',
    '../firmware/buildCache.ts',
  ],
};

const core = (part) => `./electron/core/${part}`;

const capabilityZones = CAPABILITIES.flatMap((capability) =>
  CAPABILITIES.filter((other) => other !== capability).map((other) => ({
    target: core(capability),
    from: core(other),
    except: ALLOWED[capability]
      .filter((file) => file.startsWith(`../${other}/`))
      .map((file) => `./${file.slice(other.length + 4)}`),
    message: `${capability} may not import from ${other}: go through its public module, or add it by name to ALLOWED in eslint.config.js`,
  })),
);

const sharedZones = SHARED.map((part) => ({
  target: core(part),
  from: CAPABILITIES.map(core),
  message: 'a shared part must not depend on a capability',
}));

const architecture = {
  files: ['electron/**/*.ts', 'renderer/src/**/*.{ts,tsx}'],
  rules: {
    'import-x/no-cycle': 'error',
    'import-x/no-restricted-paths': [
      'error',
      {
        zones: [
          {
            target: './electron/core',
            from: ['./electron/main', './electron/preload', './electron/web', './electron/cli', './renderer'],
            message: 'the core is host-free: it must not import a host or the renderer',
          },
          {
            target: './electron/contract',
            from: [
              './electron/core',
              './electron/main',
              './electron/preload',
              './electron/web',
              './electron/cli',
              './renderer',
            ],
            message: 'the contract depends on nothing but zod',
          },
          {
            target: './renderer',
            from: './electron',
            except: ['./contract'],
            message: 'the renderer talks to the rest only through the contract',
          },
          ...capabilityZones,
          ...sharedZones,
        ],
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', '.cache/**', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { typescript: true, node: true } },
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Input validation matches control characters on purpose (to refuse them).
      'no-control-regex': 'off',
      // A `let` set once the server listens, read by handlers installed before that.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'only electron/main and electron/preload import electron' }],
          patterns: ['keytar'],
        },
      ],
    },
  },
  { files: ['electron/main/**', 'electron/preload/**'], rules: { 'no-restricted-imports': 'off' } },
  architecture,
  {
    files: ['renderer/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    // The classic hook rules; the React Compiler's rules (refs, purity, set-state-in-effect) are for
    // code the compiler rewrites, which this app does not use: its "latest value in a ref" is on purpose.
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      'import-x/no-nodejs-modules': 'error',
    },
  },
  { files: ['scripts/**/*.js'], languageOptions: { globals: { ...globals.node } } },
  // Benches that drive Chromium pass callbacks that run in the page.
  {
    files: ['scripts/bench/telemetryRender.js', 'scripts/bench/telemetry/makerdeck.js'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  prettier,
);
