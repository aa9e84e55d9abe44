import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A private arduino-cli configuration under `home` with empty data, downloads and sketchbook folders
 * (and empty default indexes, so arduino-cli does not try to download them on its first run); the
 * test rig's own layout is never touched. Returns the config file.
 */
export function freshArduinoConfig(home: string): string {
  const q = (p: string) => JSON.stringify(path.join(home, p)); // a JSON string is a YAML double-quoted scalar
  mkdirSync(path.join(home, 'data'), { recursive: true });
  writeFileSync(path.join(home, 'data', 'package_index.json'), '{"packages":[]}\n');
  writeFileSync(path.join(home, 'data', 'library_index.json'), '{"libraries":[]}\n');
  const configFile = path.join(home, 'arduino-cli.yaml');
  writeFileSync(
    configFile,
    `board_manager:\n  additional_urls: []\ndirectories:\n  data: ${q('data')}\n  downloads: ${q('downloads')}\n` +
      `  user: ${q('sketchbook')}\nbuild_cache:\n  path: ${q('build-cache')}\nmetrics:\n  enabled: false\n` +
      `updater:\n  enable_notification: false\n`,
  );
  return configFile;
}
