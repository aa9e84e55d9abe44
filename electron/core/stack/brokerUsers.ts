// The broker's device user: boards log in as this user, not as the admin, and may only publish to
// their own Makerdeck topics. Kept in step with the keychain through RabbitMQ's management API
// (over HTTP on 127.0.0.1, so the password never lands in a file or on a command line).
import { MakerdeckError } from '../../contract';

export const DEVICE_USER = 'makerdeck-device';
/** Its password's name among the stack credentials (keychain: stack/rabbitmq-device). */
export const DEVICE_CREDENTIAL = 'rabbitmq-device';

/** MQTT topics become AMQP routing keys with "/" → ".", published on amq.topic. */
const DEVICE_TOPICS = '^makerdeck\\.[^.]+\\.(telemetry|status)$';
/** The MQTT plugin declares its own queues (mqtt-subscription-…, mqtt-will-…) and binds amq.topic. */
const MQTT_RESOURCES = '^(amq\\.topic|mqtt-.*)$';

export interface BrokerAdmin {
  /** e.g. http://127.0.0.1:15672 */
  managementUrl: string;
  username: string;
  password: string;
}

/** Creates or updates the device user (idempotent: PUT sets the password each time). */
export async function ensureDeviceUser(admin: BrokerAdmin, password: string, vhost = '/'): Promise<void> {
  const v = encodeURIComponent(vhost);
  const user = encodeURIComponent(DEVICE_USER);
  await put(admin, `/api/users/${user}`, { password, tags: '' });
  await Promise.all([
    put(admin, `/api/permissions/${v}/${user}`, { configure: '^mqtt-.*', write: MQTT_RESOURCES, read: MQTT_RESOURCES }),
    put(admin, `/api/topic-permissions/${v}/${user}`, { exchange: 'amq.topic', write: DEVICE_TOPICS, read: '^$' }),
  ]);
}

async function put(admin: BrokerAdmin, path: string, body: unknown): Promise<void> {
  const auth = Buffer.from(`${admin.username}:${admin.password}`).toString('base64');
  let response: Response;
  try {
    response = await fetch(new URL(path, admin.managementUrl), {
      method: 'PUT',
      headers: { Authorization: `Basic ${auth}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new MakerdeckError(
      'UNAVAILABLE',
      `Cannot reach the RabbitMQ management API at ${admin.managementUrl} to set up the device user (${(error as Error).message}): run makerdeck stack up again`,
    );
  }
  if (!response.ok) {
    throw new MakerdeckError(
      'UNAVAILABLE',
      `RabbitMQ refused to set up the device user (HTTP ${response.status} on ${path.split('/')[2]}): run makerdeck stack reset if its admin password was changed by hand`,
    );
  }
}
