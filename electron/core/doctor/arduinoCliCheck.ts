import { arduinoCliVersion, locateArduinoCli } from '../firmware/arduinoCli';
import type { Check } from './check';

const SOURCE_LABEL = {
  bundled: 'bundled with Makerdeck',
  configured: 'configured path',
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
        summary: 'arduino-cli was not found (not bundled, not configured, not on PATH)',
        fix: 'Install arduino-cli (https://arduino.github.io/arduino-cli/) or set MAKERDECK_ARDUINO_CLI to its path; needed only to compile firmware',
      };
    }
    try {
      const version = await arduinoCliVersion(location.path, signal);
      return { status: 'ok', summary: `arduino-cli ${version} (${SOURCE_LABEL[location.source]}: ${location.path})` };
    } catch (error) {
      return {
        status: 'fail',
        summary: (error as Error).message,
        fix: 'Reinstall arduino-cli or point Makerdeck at a working copy',
      };
    }
  },
};
