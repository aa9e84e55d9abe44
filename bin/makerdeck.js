#!/usr/bin/env node
// The `makerdeck` command: runs the built CLI (npm run build makes out/main/cli.js).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('makerdeck: the app is not built yet (out/main/cli.js is missing): run npm run build\n');
  process.exit(3);
}
const { runCli } = await import(pathToFileURL(cli).href);
await runCli();
