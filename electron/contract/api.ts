// The Makerdeck API, declared once. Every host (Electron IPC, `makerdeck serve`, the CLI) serves
// exactly these requests and emits exactly these events; the renderer's client is typed from them.
import { z } from 'zod';
import { DoctorRunArgs, type DoctorCheck, type DoctorReport } from './doctor';
import { MonitorOpenArgs, MonitorSendArgs, MonitorSessionArgs, type MonitorLines, type MonitorState } from './monitor';
import {
  StackExportArgs,
  StackFollowLogsArgs,
  StackImportArgs,
  StackLogsArgs,
  StackServiceArgs,
  StackResetArgs,
  StackStatusArgs,
  StackUpArgs,
  StackSetLanArgs,
  type StackLanView,
  type StackLogLines,
  type StackProgressEvent,
  type StackServiceView,
} from './stack';
import { EnvironmentSetArgs, type EnvironmentView } from './environment';
import {
  TelemetryCatalogArgs,
  TelemetryConnectArgs,
  TelemetryGatewayArgs,
  TelemetryHistoryArgs,
  TelemetryWindowArgs,
  type DeviceView,
  type SeriesPoints,
  type TelemetryBatch,
  type TelemetryState,
  type TelemetryStatus,
} from './telemetry';
import {
  CancelArgs,
  CompileArgs,
  FirmwareUploadBeginArgs,
  FirmwareUploadChunkArgs,
  FirmwareUploadFinishArgs,
  FlashArgs,
  type CachedBuildView,
  type CompileSummary,
  type FirmwareProgress,
  type FirmwareUploadStarted,
  type FirmwareUploadView,
  type FlashSummary,
  type SerialPortView,
  type SerialPortWatch,
} from './firmware';
import {
  ProfileDuplicateArgs,
  ProfileExportArgs,
  ProfileImportArgs,
  ProfileRefArgs,
  ProfileSaveArgs,
  type ProfileDefaults,
  type ProfileImportResult,
  type ProfileExport,
  type ProfileView,
} from './profiles';
import {
  BoardsAddIndexArgs,
  BoardsInstallArgs,
  BoardsInstallFromArgs,
  BoardsListArgs,
  BoardsRemoveArgs,
  type BoardCoreView,
  type BoardsIndexSummary,
  type BoardsInstallSummary,
  type BoardsProgress,
} from './boards';
import { DeviceLoginArgs, type DeviceLoginView } from './deviceLogins';
import {
  DeviceInfoArgs,
  DeviceProvisionArgs,
  DeviceScanArgs,
  type DeviceInfo,
  type DeviceProvisionResult,
  type DeviceScanResult,
} from './device';
import {
  LabCreateArgs,
  LabExportLogArgs,
  LabImportRosterArgs,
  LabRefArgs,
  LabResetArgs,
  LabRetryArgs,
  LabStationStartArgs,
  type LabLogEntry,
  type LabLogExport,
  type LabResetSummary,
  type LabSummary,
  type LabView,
  type StationView,
} from './lab';
import {
  PackCreateArgs,
  PackContentsArgs,
  PackImportArgs,
  PackInspectArgs,
  type PackCreateSummary,
  type PackImportSummary,
  type PackManifest,
  type PackPlan,
  type PackProgress,
} from './pack';

/** A request: its argument schema (checked at the boundary) and, as a type only, its result. */
export interface RequestSpec<Args extends z.ZodType, Result> {
  readonly args: Args;
  readonly summary: string;
  /**
   * Dotted paths of the secret fields in the parsed arguments (e.g. `secrets.wifiPassword`). Only
   * these, and only once the arguments passed validation, are handed to the redactor.
   */
  readonly secrets?: readonly string[];
  /** Type carrier only; never set. */
  readonly result?: Result;
}

/** An event stream: its payload as a type only. */
export interface EventSpec<Payload> {
  readonly summary: string;
  /** Type carrier only; never set. */
  readonly payload?: Payload;
}

const request =
  <Result>() =>
  <Args extends z.ZodType>(args: Args, summary: string, secrets?: readonly string[]): RequestSpec<Args, Result> =>
    secrets ? { args, summary, secrets } : { args, summary };
const event = <Payload>(summary: string): EventSpec<Payload> => ({ summary });

const NoArgs = z.object({}).strict().default({});

export interface AppInfo {
  name: string;
  version: string;
  /** Which host serves the API: the Electron app, browser mode or the CLI. */
  host: 'electron' | 'web' | 'cli';
  platform: string;
  arch: string;
  /** The log file in the data folder, where unexpected errors' details are written. */
  logFile: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export interface LogLine {
  time: string;
  level: LogLevel;
  source: string;
  message: string;
}

export const requests = {
  'app.info': request<AppInfo>()(NoArgs, 'Name, version and host of the running app'),
  'doctor.run': request<DoctorReport>()(DoctorRunArgs, 'Run the setup checks and return the report'),
  'profiles.list': request<ProfileView[]>()(NoArgs, 'All device profiles, secrets shown only as set or not set'),
  'profiles.get': request<ProfileView>()(ProfileRefArgs, 'One device profile by name or id'),
  'profiles.save': request<ProfileView>()(
    ProfileSaveArgs,
    'Create a profile (no ref) or change one; secrets go to the keychain only',
    ['secrets.wifiPassword', 'secrets.mqttPassword'],
  ),
  'profiles.duplicate': request<ProfileView>()(
    ProfileDuplicateArgs,
    'Copy a profile, secrets included, under a new name',
  ),
  'profiles.delete': request<{ id: string }>()(ProfileRefArgs, 'Delete a profile and its keychain entries'),
  'profiles.export': request<ProfileExport>()(
    ProfileExportArgs,
    'A profile as a file: without secrets, or with them encrypted by a passphrase',
    ['passphrase'],
  ),
  'profiles.import': request<ProfileImportResult>()(
    ProfileImportArgs,
    'Create a profile from an exported file, secrets back into the keychain',
    ['passphrase'],
  ),
  'serial.list': request<SerialPortView[]>()(NoArgs, 'Serial ports with a guess of the board or adapter behind each'),
  'serial.watch': request<SerialPortWatch>()(
    NoArgs,
    'The serial ports now; then serial.ports events on plug and unplug while the lease (renewed by calling again) lasts',
  ),
  'firmware.compile': request<CompileSummary>()(
    CompileArgs,
    'Build the firmware for a board (FQBN), config-free; a build already made for the same sources, core and arduino-cli comes from the cache',
  ),
  'firmware.uploadBegin': request<FirmwareUploadStarted>()(
    FirmwareUploadBeginArgs,
    'Start sending a .hex/.bin file to the host in chunks (each far below a WebSocket frame), for firmware.flash',
  ),
  'firmware.uploadChunk': request<FirmwareUploadView>()(
    FirmwareUploadChunkArgs,
    'The next chunk of an upload (base64, in order)',
  ),
  'firmware.uploadFinish': request<FirmwareUploadView>()(
    FirmwareUploadFinishArgs,
    'Complete an upload (size and SHA-256 checked); firmware.flash then takes it once, as source {uploadId}',
  ),
  'firmware.flash': request<FlashSummary>()(
    FlashArgs,
    "Flash a profile's release (the cached or fresh build with the profile's config stamped in, in memory) or a .hex/.bin file as is, then verify",
  ),
  'monitor.open': request<{ sessionId: string }>()(
    MonitorOpenArgs,
    'Open a serial port in the monitor; lines arrive as monitor.lines events',
  ),
  'monitor.send': request<{ sent: true }>()(MonitorSendArgs, 'Send a line to an open monitor port'),
  'monitor.close': request<{ closed: true }>()(MonitorSessionArgs, 'Close a monitor port'),
  'stack.up': request<StackServiceView[]>()(
    StackUpArgs,
    'Start the local backing stack (a profile) and wait until it is healthy',
  ),
  'stack.down': request<{ down: true }>()(NoArgs, 'Stop and remove the stack containers; the data volumes stay'),
  'stack.reset': request<{ reset: true }>()(
    StackResetArgs,
    'Remove the stack and delete its data volumes (asks for confirmation)',
  ),
  'stack.status': request<StackServiceView[]>()(
    StackStatusArgs,
    'Each service: state, health, ports, uptime and console links',
  ),
  'stack.stop': request<{ stopped: string }>()(StackServiceArgs, 'Stop one service (its container and data stay)'),
  'stack.restart': request<{ restarted: string }>()(
    StackServiceArgs,
    'Restart one service and wait until it is healthy',
  ),
  'stack.logs': request<{ service: string; lines: string[] }>()(StackLogsArgs, "The last lines of a service's log"),
  'stack.followLogs': request<{ service: string; ended: true }>()(
    StackFollowLogsArgs,
    "Stream a service's log as stack.log events until it stops or operations.cancel",
  ),
  'stack.exportImages': request<{ file: string; images: string[]; bytes: number }>()(
    StackExportArgs,
    "Save the stack's images to one file (docker save) for machines without internet",
  ),
  'stack.importImages': request<{ images: string[] }>()(
    StackImportArgs,
    'Load an image bundle made by stack.exportImages',
  ),
  'telemetry.connect': request<TelemetryState>()(
    TelemetryConnectArgs,
    "Connect to the active environment's broker; points arrive as telemetry.batch events",
  ),
  'telemetry.disconnect': request<TelemetryState>()(
    NoArgs,
    'Disconnect from the broker (the charts keep what they have)',
  ),
  'telemetry.status': request<TelemetryStatus>()(
    NoArgs,
    'Broker and gateway state, devices with their last values, accepted and rejected counts',
  ),
  'telemetry.window': request<SeriesPoints[]>()(
    TelemetryWindowArgs,
    'The live points kept in memory for some series and a time window',
  ),
  'telemetry.history': request<SeriesPoints[]>()(
    TelemetryHistoryArgs,
    'Points from InfluxDB for a window, aggregated to about `points` per series',
  ),
  'telemetry.catalog': request<DeviceView[]>()(
    TelemetryCatalogArgs,
    'Devices and fields InfluxDB stored in a window, with their newest values',
  ),
  'telemetry.gatewayStart': request<TelemetryState>()(
    TelemetryGatewayArgs,
    "Read a board's telemetry from USB serial, chart it and publish it to the broker",
  ),
  'telemetry.gatewayStop': request<TelemetryState>()(NoArgs, 'Stop the serial gateway'),
  'environment.get': request<EnvironmentView>()(
    NoArgs,
    'The broker and InfluxDB in use: the local stack or attached services',
  ),
  'environment.set': request<EnvironmentView>()(
    EnvironmentSetArgs,
    'Use the local stack, or attach a shared broker and InfluxDB (credentials to the keychain)',
    ['secrets.mqttPassword', 'secrets.influxPassword'],
  ),
  'operations.cancel': request<{ cancelled: boolean }>()(
    CancelArgs,
    'Cancel a running compile or flash by its operation id',
  ),
  'boards.list': request<BoardCoreView[]>()(
    BoardsListArgs,
    'Installed board cores (arduino-cli platforms) with versions; with all, also those the indexes offer',
  ),
  'boards.install': request<BoardsInstallSummary>()(
    BoardsInstallArgs,
    'Install a board core from the board-manager indexes; progress arrives as boards.progress events',
  ),
  'boards.installFrom': request<BoardsInstallSummary>()(
    BoardsInstallFromArgs,
    'Install board cores offline from a folder (or .tar.gz) holding a package index and its archives',
  ),
  'boards.remove': request<{ removed: string }>()(BoardsRemoveArgs, 'Remove an installed board core'),
  'boards.updateIndex': request<BoardsIndexSummary>()(NoArgs, 'Download the board-manager indexes again'),
  'boards.addIndex': request<BoardsIndexSummary & { url: string }>()(
    BoardsAddIndexArgs,
    'Add a board-manager index URL (https:// or file://) and download the indexes',
  ),
  'devices.loginList': request<DeviceLoginView[]>()(NoArgs, "The devices' own broker logins on the local stack"),
  'devices.loginCreate': request<DeviceLoginView>()(
    DeviceLoginArgs,
    'Create (or keep) a broker login for one device, allowed to publish only to its own topics',
  ),
  'devices.loginRotate': request<DeviceLoginView>()(DeviceLoginArgs, "Give one device's broker login a new password"),
  'devices.loginRevoke': request<{ deviceId: string; revoked: boolean }>()(
    DeviceLoginArgs,
    "Delete one device's broker login and its keychain entry",
  ),
  'stack.lan': request<StackLanView>()(
    NoArgs,
    "Whether the local broker's MQTT port is open to the LAN, and this computer's LAN addresses",
  ),
  'stack.setLan': request<StackLanView>()(
    StackSetLanArgs,
    'Open the local broker to the LAN or close it (remembered); re-creates a running broker only',
  ),
  'profiles.defaults': request<ProfileDefaults>()(
    NoArgs,
    "A new profile's MQTT host for a Wi-Fi board: this computer's LAN address, or the attached broker's host",
  ),
  'device.info': request<DeviceInfo>()(
    DeviceInfoArgs,
    "A running board's identity, build and non-secret config, read over USB serial",
  ),
  'device.provision': request<DeviceProvisionResult>()(
    DeviceProvisionArgs,
    "Set a running board's Wi-Fi (from a profile or typed) and/or device id over Improv serial",
    ['password'],
  ),
  'device.scan': request<DeviceScanResult>()(DeviceScanArgs, 'The Wi-Fi networks a board sees, over Improv serial'),
  'lab.list': request<LabSummary[]>()(NoArgs, 'The classroom labs, with how many seats are online, silent or failed'),
  'lab.get': request<LabView>()(LabRefArgs, 'One lab: its template, board and every seat with its state'),
  'lab.create': request<LabView>()(
    LabCreateArgs,
    'Create a lab: a class name, a board type, a profile template and seat ids from a pattern',
  ),
  'lab.importRoster': request<LabView>()(
    LabImportRosterArgs,
    "Replace a lab's seats with a roster CSV (seat, student, device id)",
  ),
  'lab.delete': request<{ id: string }>()(LabRefArgs, 'Delete a lab (reset it first to remove its broker users)'),
  'lab.stationStart': request<StationView>()(
    LabStationStartArgs,
    'Start the flash station: each board plugged in gets the next free id, released and flashed; lab.station events follow',
  ),
  'lab.stationStop': request<StationView>()(LabRefArgs, 'Stop the station (boards being flashed finish first)'),
  'lab.stationStatus': request<StationView>()(LabRefArgs, "The station's ports with their phases and progress"),
  'lab.retry': request<StationView>()(LabRetryArgs, 'Flash a failed or silent seat again (its board plugged in)'),
  'lab.log': request<LabLogEntry[]>()(LabRefArgs, "Every board's go at the station, oldest first"),
  'lab.exportLog': request<LabLogExport>()(LabExportLogArgs, "The lab's station log as CSV or JSON"),
  'lab.reset': request<LabResetSummary>()(
    LabResetArgs,
    "Reset a lab between classes: delete its devices' broker users and keychain entries (and, asked, their data); builds stay",
  ),
  'pack.plan': request<PackPlan>()(
    PackContentsArgs,
    'What a lab pack would hold, part by part with sizes, before anything is written',
    ['passphrase'],
  ),
  'pack.create': request<PackCreateSummary>()(
    PackCreateArgs,
    'Write a lab pack (arduino-cli, cores, libraries, builds, images, encrypted profiles); pack.progress events follow',
    ['passphrase'],
  ),
  'pack.inspect': request<PackManifest>()(PackInspectArgs, "A lab pack's manifest: its parts, versions and sizes"),
  'pack.import': request<PackImportSummary>()(
    PackImportArgs,
    'Verify every checksum, check the space, then set this machine up from a lab pack (resumes an interrupted import)',
    ['passphrase'],
  ),
  'firmware.builds': request<CachedBuildView[]>()(
    NoArgs,
    'The cached firmware builds (hash, board, core and arduino-cli versions, image size, when built), newest first',
  ),
} as const;

export const events = {
  'doctor.check': event<DoctorCheck>('One setup check finished (arrives before the full report)'),
  log: event<LogLine>('A log line from a core service, already redacted'),
  'profiles.changed': event<{ ids: string[] }>('Profiles were created, changed or deleted'),
  'firmware.progress': event<FirmwareProgress>('Progress of a compile or flash: phase and bytes'),
  'stack.progress': event<StackProgressEvent>('Progress of stack up/down: service and phase'),
  'stack.log': event<StackLogLines>(
    'Log lines of a followed service, demultiplexed and batched (at most one event per 100 ms), already redacted',
  ),
  'telemetry.batch': event<TelemetryBatch>(
    'New points per series, device changes and counts, at most one event per 50 ms',
  ),
  'telemetry.state': event<TelemetryState>('The broker connection, the gateway or the history source changed state'),
  'monitor.lines': event<MonitorLines>(
    'Lines read from a monitor port, batched (at most one event per 50 ms), already redacted',
  ),
  'monitor.state': event<MonitorState>('A monitor port opened or closed (unplugged, …)'),
  'boards.progress': event<BoardsProgress>(
    'Progress of a board core install: download bytes per archive, then install steps',
  ),
  'lab.station': event<StationView>(
    'The station of a lab changed: a port detected, progress, a result (at most 10 per s)',
  ),
  'pack.progress': event<PackProgress>('Progress of a lab pack being written, verified or imported'),
  'serial.ports': event<SerialPortView[]>(
    'The serial ports changed (plugged or unplugged), while serial.watch is held',
  ),
} as const;

export type Requests = typeof requests;
export type RequestName = keyof Requests;
export type ArgsOf<N extends RequestName> = z.input<Requests[N]['args']>;
export type ParsedArgsOf<N extends RequestName> = z.output<Requests[N]['args']>;
export type ResultOf<N extends RequestName> = NonNullable<Requests[N]['result']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type PayloadOf<E extends EventName> = NonNullable<Events[E]['payload']>;

/** What a host must implement: one handler per declared request, no more, no less. */
export type Handlers = {
  [N in RequestName]: (args: ParsedArgsOf<N>) => Promise<ResultOf<N>>;
};

export const requestNames = Object.keys(requests) as RequestName[];
export const eventNames = Object.keys(events) as EventName[];

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requests, name);
}
