// RabbitMQ users through the management API (over HTTP on 127.0.0.1, so a password never lands in
// a file or on a command line): one broker user per device, allowed to publish only to its own
// Makerdeck topics (deviceAccounts.ts), and the removal of the shared login earlier versions used.
import { MakerdeckError } from '../../contract';

/** The shared login every board used before per-device users; removed by the next `stack up`. */
export const LEGACY_DEVICE_USER = 'makerdeck-device';
/** Its password's name among the stack credentials (keychain: stack/rabbitmq-device). */
export const LEGACY_DEVICE_CREDENTIAL = 'rabbitmq-device';
/** Broker users of devices: "makerdeck-dev-<device id>" (device ids hold [A-Za-z0-9_-] only). */
export const DEVICE_USER_PREFIX = 'makerdeck-dev-';

export interface BrokerAdmin {
  /** e.g. http://127.0.0.1:15672 */
  managementUrl: string;
  username: string;
  password: string;
}

/** The broker user of one device. */
export function deviceUser(deviceId: string): string {
  return DEVICE_USER_PREFIX + deviceId;
}

/** A literal inside a regular expression (RabbitMQ uses Erlang's PCRE-like `re`). */
function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/**
 * What a device may do on the vhost. An MQTT publish is a write on amq.topic with the topic as the
 * routing key ("/" → "."); the topic permission narrows that to the device's two routing keys.
 * No configure or read: a device publishes and never subscribes, so it needs no queue of its own.
 */
export function devicePermissions(deviceId: string) {
  const id = escapeRegex(deviceId);
  return {
    permissions: { configure: '^$', write: '^amq\\.topic$', read: '^$' },
    topic: { exchange: 'amq.topic', write: `^makerdeck\\.${id}\\.(telemetry|status)$`, read: '^$' },
  };
}

/** Creates the device's user or sets its password, then (re)applies its permissions. */
export async function putDeviceUser(admin: BrokerAdmin, deviceId: string, password: string, vhost = '/') {
  const v = encodeURIComponent(vhost);
  const user = encodeURIComponent(deviceUser(deviceId));
  const { permissions, topic } = devicePermissions(deviceId);
  await call(admin, 'PUT', `/api/users/${user}`, { password, tags: '' });
  await call(admin, 'PUT', `/api/permissions/${v}/${user}`, permissions);
  await call(admin, 'PUT', `/api/topic-permissions/${v}/${user}`, topic);
}

/** Deletes a user; true when it existed. */
export async function deleteUser(admin: BrokerAdmin, username: string): Promise<boolean> {
  return (await call(admin, 'DELETE', `/api/users/${encodeURIComponent(username)}`)) !== undefined;
}

/** Whether a user exists. */
export async function userExists(admin: BrokerAdmin, username: string): Promise<boolean> {
  return (await call(admin, 'GET', `/api/users/${encodeURIComponent(username)}`)) !== undefined;
}

/** The names of all users. */
export async function listUsers(admin: BrokerAdmin): Promise<string[]> {
  const users = (await call(admin, 'GET', '/api/users')) as Array<{ name: string }> | undefined;
  return (users ?? []).map((u) => u.name);
}

/** Closes the user's open connections, so a rotated or revoked password stops working at once. */
export async function closeConnections(admin: BrokerAdmin, username: string): Promise<void> {
  const connections = (await call(admin, 'GET', '/api/connections')) as Array<{ name: string; user: string }>;
  for (const c of connections ?? []) {
    if (c.user === username) await call(admin, 'DELETE', `/api/connections/${encodeURIComponent(c.name)}`);
  }
}

/** One management API call; undefined for a 404, the JSON body (or null) otherwise. */
async function call(admin: BrokerAdmin, method: string, path: string, body?: unknown): Promise<unknown> {
  const auth = Buffer.from(`${admin.username}:${admin.password}`).toString('base64');
  let response: Response;
  try {
    response = await fetch(new URL(path, admin.managementUrl), {
      method,
      headers: { Authorization: `Basic ${auth}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new MakerdeckError(
      'UNAVAILABLE',
      `Cannot reach the RabbitMQ management API at ${admin.managementUrl} (${(error as Error).message}): start the stack with makerdeck stack up`,
    );
  }
  if (response.status === 404) return undefined;
  if (!response.ok) {
    throw new MakerdeckError(
      'UNAVAILABLE',
      `RabbitMQ refused a device login change (HTTP ${response.status} on ${path.split('/')[2]}): run makerdeck stack reset if its admin password was changed by hand`,
    );
  }
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}
