// A board's info as the contract shows it, from Makerdeck's "makerdeck-info {json}" line or from
// another firmware's Improv device info. Only the fields Makerdeck knows are kept, each checked.
import type { DeviceInfo } from '../../contract';

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value.slice(0, 256) : undefined);
const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;

/** From the firmware's info line (already parsed JSON). */
export function infoFromLine(port: string, json: Record<string, unknown>): DeviceInfo {
  const overridden = json.overridden as Record<string, unknown> | undefined;
  const info: DeviceInfo = {
    port,
    source: 'makerdeck',
    firmware: 'Makerdeck',
    build: text(json.build) ?? 'unknown',
    chip: text(json.chip) ?? 'unknown',
    deviceId: text(json.deviceId) ?? '',
    provisioned: json.provisioned === true,
    wifiSsid: text(json.wifiSsid),
    mqttHost: text(json.mqttHost),
    mqttPort: count(json.mqttPort),
    mqttUser: text(json.mqttUser),
    intervalS: count(json.intervalS),
    overridden: { deviceId: overridden?.deviceId === true, wifi: overridden?.wifi === true },
  };
  return Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) as unknown as DeviceInfo;
}

/** From Improv's device info (name, version, chip, device name): some other firmware. */
export function infoFromImprov(
  port: string,
  improv: { firmware: string; version: string; chipFamily: string; name: string },
): DeviceInfo {
  return {
    port,
    source: 'improv',
    firmware: improv.firmware ?? '',
    build: improv.version ?? '',
    chip: improv.chipFamily ?? '',
    deviceId: improv.name ?? '',
  };
}
