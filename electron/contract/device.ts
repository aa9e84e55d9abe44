// A running board over USB serial: its identity and non-secret config, and field re-provisioning
// over Improv Wi-Fi serial (Wi-Fi, device id, network scan) without a compiler.
import { z } from 'zod';
import { DeviceId, Ssid, WifiPassword } from './profiles';

const Port = z.string().min(1, 'Pick a serial port').max(255);
/** How long to keep trying a board that is still booting (after a flash or reset) before giving up. */
const WindowMs = z
  .number()
  .int()
  .min(1000, 'The detection window must be from 1000 to 60000 ms')
  .max(60000, 'The detection window must be from 1000 to 60000 ms')
  .default(12000);

export const DeviceInfoArgs = z.object({ port: Port, windowMs: WindowMs }).strict();
export const DeviceScanArgs = z.object({ port: Port, windowMs: WindowMs }).strict();
export const DeviceProvisionArgs = z
  .object({
    port: Port,
    /** The Wi-Fi comes from this profile (SSID and keychain password), or a typed one is kept on it. */
    profile: z.string().min(1, 'Name the profile (its name or id)').optional(),
    ssid: Ssid.optional(),
    /** With `ssid`: a typed password, kept in the keychain on `profile` once the board joined. */
    password: z
      .string()
      .refine(
        (value) => value === '' || WifiPassword.safeParse(value).success,
        'A WPA2 passphrase has 8 to 63 printable ASCII characters (none for an open network)',
      )
      .optional(),
    deviceId: DeviceId.optional(),
    windowMs: WindowMs,
  })
  .strict()
  .refine((a) => a.profile !== undefined || a.ssid !== undefined || a.deviceId !== undefined, {
    message: 'Say what to set: a profile, an SSID or a device id',
  })
  .refine((a) => a.password === undefined || a.ssid !== undefined, {
    message: 'A typed Wi-Fi password goes with its SSID',
  });

/** What a board says about itself. Passwords are never part of it. */
export interface DeviceInfo {
  port: string;
  /** 'makerdeck': the firmware's own info line; 'improv': another firmware's Improv device info. */
  source: 'makerdeck' | 'improv';
  firmware: string;
  /** The build hash (Makerdeck) or the firmware version (other Improv firmware). */
  build: string;
  chip: string;
  deviceId: string;
  provisioned?: boolean;
  wifiSsid?: string;
  mqttHost?: string;
  mqttPort?: number;
  mqttUser?: string;
  intervalS?: number;
  /** Which values were set on the board over Improv and override the flashed release. */
  overridden?: { deviceId: boolean; wifi: boolean };
}

export interface DeviceProvisionResult {
  port: string;
  deviceId?: string;
  /** The network the board joined. */
  wifiSsid?: string;
  /** The profile whose keychain entry now holds the typed password. */
  savedToProfile?: string;
}

export interface WifiNetwork {
  ssid: string;
  rssi: number;
  secured: boolean;
}

export interface DeviceScanResult {
  port: string;
  /** False for a board without Wi-Fi (an Uno): its list is always empty. */
  wifi: boolean;
  networks: WifiNetwork[];
}
