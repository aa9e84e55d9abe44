// One cached build in words for the Pack page's tick-boxes: what tells two builds for one board apart.
import type { CachedBuildView } from '../../../../electron/contract/firmware';
import { formatBytes } from './formatBytes';

/** Where and in which time zone to show the date: the browser's, unless a test fixes them. */
export interface DateStyle {
  locale?: string;
  timeZone?: string;
}

/** "3f9a1c0b2d4e5f60 · 12.3 KiB .hex · core 1.8.7 · arduino-cli 1.0.4 · built 5 Dec 2026, 21:40". */
export function cachedBuildDetails(build: CachedBuildView, date: DateStyle = {}): string {
  const built = new Date(build.builtAt).toLocaleString(date.locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: date.timeZone,
  });
  return [
    build.buildHash,
    `${formatBytes(build.bytes)} .${build.format}`,
    build.coreVersion && `core ${build.coreVersion}`,
    build.cliVersion && `arduino-cli ${build.cliVersion}`,
    `built ${built}`,
  ]
    .filter(Boolean)
    .join(' · ');
}
