import { arduinoCliVersion, locateArduinoCli } from '../firmware/arduinoCli';
import { arduinoCliConfigFor } from '../firmware/arduinoCliHome';
import type { Check } from './check';

const SOURCE_LABEL = {
  bundled: 'bundled with Makerdeck',
  configured: 'configured path',
  'data folder': "the data folder's, from a lab pack",
  path: 'found on PATH',
} as const;

export const arduinoCliCheck: Check = {
  id: 'arduino-cli',
  title: 'arduino-cli (firmware compiler)',
  budgetMs: 4000,
  async run(context, signal) {
    let location;
    try {
      location = await locateArduinoCli(context.arduinoCli);
    } catch (error) {
      return {
        status: 'fail',
        summary: (error as Error).message,
        fix: 'Point Makerdeck at a working arduino-cli, or clear the setting to use the bundled one',
      };
    }
    if (!location) {
      return {
        status: 'warn',
        summary: 'arduino-cli was not found (not bundled, not configured, not in the data folder, not on PATH)',
        fix: 'Install arduino-cli (https://arduino.github.io/arduino-cli/) or set MAKERDECK_ARDUINO_CLI to its path, or import a lab pack (makerdeck pack import FILE); needed only to compile firmware',
      };
    }
    try {
      const version = await arduinoCliVersion(location.path, signal);
      const config = await arduinoCliConfigFor(context.env, context.dataDir);
      return {
        status: 'ok',
        summary: `arduino-cli ${version} (${SOURCE_LABEL[location.source]}: ${location.path})`,
        items: [{ label: 'configuration', detail: config ?? "arduino-cli's default", status: 'ok' }],
      };
    } catch (error) {
      return {
        status: 'fail',
        summary: (error as Error).message,
        fix: 'Reinstall arduino-cli or point Makerdeck at a working copy',
      };
    }
  },
};
