// What a new Wi-Fi board's profile starts with: the broker a board on the LAN can reach in the
// active environment (a board's 127.0.0.1 is the board itself).
import { BROKER_MQTT_PORT, type ProfileDefaults } from '../../contract';
import type { Environments } from './environment';
import { lanAddresses } from './lanAddresses';

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443 };

/**
 * Local stack: this computer's first LAN address ('' when it has none) and the broker's port;
 * attached: the attached broker's host and port.
 */
export async function profileDefaults(environments: Environments): Promise<ProfileDefaults> {
  const view = await environments.view();
  if (view.kind === 'local')
    return { environment: 'local', wifiMqttHost: lanAddresses()[0] ?? '', mqttPort: BROKER_MQTT_PORT };
  const url = new URL(view.mqtt.url);
  return {
    environment: 'attached',
    wifiMqttHost: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    mqttPort: url.port ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? BROKER_MQTT_PORT),
  };
}
