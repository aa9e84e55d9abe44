// What the test command (scripts/test.js) started for this run. A test that needs a service
// fails with this message when it is missing — it never skips silently.
export function requiredEnv(name: string, what: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set, so ${what} is not running: run the tests with \`npm test\`, which starts it`);
  return value;
}

export const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
