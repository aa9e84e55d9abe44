import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start processes and servers; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // Its ESM files import each other without extensions: let Vite resolve them, as the build does.
    server: { deps: { inline: ['improv-wifi-serial-sdk'] } },
  },
});
