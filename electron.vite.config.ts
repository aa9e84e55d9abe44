import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
const define = { __MAKERDECK_VERSION__: JSON.stringify(version) };

export default defineConfig({
  // Node side: the Electron main process and the `makerdeck` CLI share the core services.
  main: {
    define,
    build: {
      // Runtime dependencies stay external; improv-wifi-serial-sdk is a devDependency so it is bundled:
      // its ESM files import each other without extensions, which Node alone cannot load.
      rollupOptions: {
        input: { index: resolve('electron/main/index.ts'), cli: resolve('electron/cli/index.ts') },
      },
    },
  },
  // A sandboxed preload must be one CommonJS file with no runtime imports besides electron.
  preload: {
    build: {
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    define,
    plugins: [react()],
    build: {
      minify: true,
      rollupOptions: { input: { index: resolve('renderer/index.html') } },
    },
  },
});
