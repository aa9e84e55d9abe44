// Injected at build time from package.json by electron-vite's `define`; tests fall back to "dev".
declare const __MAKERDECK_VERSION__: string | undefined;
export const APP_VERSION = typeof __MAKERDECK_VERSION__ === 'string' ? __MAKERDECK_VERSION__ : 'dev';
