// The device capability: a running board over USB serial. Reads its identity and non-secret config
// ("makerdeck info", or Improv device info for other Improv firmware) and re-provisions it in the
// field over Improv Wi-Fi serial: Wi-Fi from a profile or typed, the device id, a network scan.
import { MakerdeckError, type DeviceInfo, type DeviceProvisionResult, type DeviceScanResult } from '../../contract';
import type { Profiles } from '../profiles/profiles';
import type { PortOpener } from '../serial/webSerialPort';
import { ImprovLink } from './improvLink';
import { infoFromImprov, infoFromLine } from './deviceInfo';

export interface DeviceDeps {
  profiles: Profiles;
  /** The monitor gives up a port before it is used here. */
  monitor: { release(path: string): Promise<void> };
  /** Opens the node port (tests pass another binding); openSerialPort by default. */
  open?: PortOpener;
}

export interface ProvisionArgs {
  port: string;
  profile?: string;
  ssid?: string;
  password?: string;
  deviceId?: string;
  windowMs: number;
}

/** Timeouts per Improv command: an ESP gives a network 15 s to accept it. */
const TIMEOUT = { info: 3000, name: 5000, wifi: 30000, scan: 20000 };

export class DeviceService {
  constructor(private readonly deps: DeviceDeps) {}

  /** The board's identity, build and non-secret config. */
  info({ port, windowMs }: { port: string; windowMs: number }): Promise<DeviceInfo> {
    return this.withLink(port, async (link) => {
      const found = await link.detect(windowMs, true);
      if (found.kind === 'none') throw noAnswer(port, windowMs, link);
      if (found.kind === 'makerdeck-info') return infoFromLine(port, found.info);
      await link.improv.requestInfo(TIMEOUT.info).catch((e: unknown) => {
        throw improvFailure(port, e);
      });
      return infoFromImprov(port, link.improv.info!);
    });
  }

  /** Sets the device id and/or the Wi-Fi over Improv; a typed password is then kept on the profile. */
  async provision(args: ProvisionArgs): Promise<DeviceProvisionResult> {
    const wifi = await this.wifiToSet(args);
    if (!wifi && args.deviceId === undefined)
      throw new MakerdeckError(
        'BAD_INPUT',
        `The profile ${args.profile} has no Wi-Fi SSID: give --ssid, or --device-id for a board without Wi-Fi`,
      );
    const result: DeviceProvisionResult = await this.withLink(args.port, async (link) => {
      const hasWifi = await this.detectImprov(link, args.port, args.windowMs);
      if (wifi && !hasWifi.wifi)
        throw new MakerdeckError(
          'BAD_INPUT',
          `This board (${hasWifi.chip}) has no Wi-Fi: set only its device id (--device-id), nothing was changed`,
        );
      const done: DeviceProvisionResult = { port: args.port };
      if (args.deviceId !== undefined)
        done.deviceId = await link.improv.setDeviceName(args.deviceId, TIMEOUT.name).catch((e: unknown) => {
          throw improvFailure(args.port, e, { deviceId: args.deviceId });
        });
      if (wifi) {
        await link.improv.provision(wifi.ssid, wifi.password, TIMEOUT.wifi).catch((e: unknown) => {
          throw improvFailure(args.port, e, { ssid: wifi.ssid });
        });
        done.wifiSsid = wifi.ssid;
      }
      return done;
    });
    if (wifi?.typed && args.profile) {
      const saved = await this.deps.profiles.save({
        ref: args.profile,
        fields: { wifiSsid: wifi.ssid },
        secrets: { wifiPassword: wifi.password === '' ? null : wifi.password },
      });
      result.savedToProfile = saved.name;
    }
    return result;
  }

  /** The Wi-Fi networks the board sees; none (and `wifi: false`) for a board without Wi-Fi. */
  scan({ port, windowMs }: { port: string; windowMs: number }): Promise<DeviceScanResult> {
    return this.withLink(port, async (link) => {
      const { wifi } = await this.detectImprov(link, port, windowMs);
      if (!wifi) return { port, wifi: false, networks: [] };
      const found = await link.improv.scan(TIMEOUT.scan).catch((e: unknown) => {
        throw improvFailure(port, e);
      });
      return { port, wifi: true, networks: found.map((n) => ({ ssid: n.name, rssi: n.rssi, secured: n.secured })) };
    });
  }

  /** What to send as Wi-Fi: typed (SSID, password) or the profile's SSID and keychain password. */
  private async wifiToSet(
    args: ProvisionArgs,
  ): Promise<{ ssid: string; password: string; typed: boolean } | undefined> {
    if (args.ssid !== undefined) return { ssid: args.ssid, password: args.password ?? '', typed: true };
    if (args.profile === undefined) return undefined;
    const profile = await this.deps.profiles.get(args.profile);
    if (profile.wifiSsid === '') return undefined;
    const secrets = await this.deps.profiles.secretsOf(profile.id);
    return { ssid: profile.wifiSsid, password: secrets.wifiPassword ?? '', typed: false };
  }

  private async detectImprov(link: ImprovLink, port: string, windowMs: number) {
    const found = await link.detect(windowMs, false);
    if (found.kind === 'none') throw noAnswer(port, windowMs, link);
    await link.improv.requestInfo(TIMEOUT.info).catch((e: unknown) => {
      throw improvFailure(port, e);
    });
    const chip = link.improv.info?.chipFamily ?? 'unknown';
    return { chip, wifi: /^ESP/i.test(chip) };
  }

  private async withLink<T>(port: string, use: (link: ImprovLink) => Promise<T>): Promise<T> {
    await this.deps.monitor.release(port);
    const link = await ImprovLink.open(port, this.deps.open);
    try {
      return await use(link);
    } finally {
      await link.close();
    }
  }
}

/** The one line for a board that said nothing Makerdeck or Improv understands during the window. */
function noAnswer(port: string, windowMs: number, { lost, textLines }: ImprovLink): MakerdeckError {
  const seconds = Math.round(windowMs / 1000);
  if (lost)
    return new MakerdeckError('UNAVAILABLE', `${port} went away (unplugged?): plug the board in again and try again`);
  if (textLines > 0)
    return new MakerdeckError(
      'UNAVAILABLE',
      `This board runs no Makerdeck firmware: ${port} printed ${textLines} lines in ${seconds} s but answered neither Improv nor "makerdeck info"; flash it with Makerdeck (makerdeck flash --profile NAME --port ${port})`,
    );
  return new MakerdeckError(
    'UNAVAILABLE',
    `No answer from ${port} in ${seconds} s: check it is the board's port and the board runs (press reset), or flash it with Makerdeck (makerdeck flash --profile NAME --port ${port})`,
  );
}

/** The SDK rejects with the device's error name (or an Error): one line saying what to do. */
function improvFailure(port: string, error: unknown, about: { ssid?: string; deviceId?: string } = {}): MakerdeckError {
  const text = error instanceof Error ? error.message : String(error);
  if (text.includes('UNABLE_TO_CONNECT'))
    return new MakerdeckError(
      'UNAVAILABLE',
      `The board could not join "${about.ssid}": check the SSID and password (ESP boards join 2.4 GHz networks only) and try again`,
    );
  if (text.includes('BAD_HOSTNAME'))
    return new MakerdeckError(
      'BAD_INPUT',
      `The board refused the device id "${about.deviceId}": use 1 to 64 letters, digits, - or _`,
    );
  if (text.includes('UNKNOWN_ERROR'))
    return new MakerdeckError(
      'BAD_INPUT',
      `The board is not provisioned, so it keeps no settings: flash it as a profile first (makerdeck flash --profile NAME --port ${port})`,
    );
  if (text.includes('UNKNOWN_RPC_COMMAND') || text.includes('INVALID_RPC_PACKET'))
    return new MakerdeckError(
      'UNAVAILABLE',
      `The board's firmware does not support this over Improv: flash the current Makerdeck firmware to ${port}`,
    );
  return new MakerdeckError(
    'UNAVAILABLE',
    `The board on ${port} stopped answering: press its reset button and try again`,
  );
}
