// The addresses a board on the LAN reaches this computer at: what a Wi-Fi profile's MQTT host
// should be when the local stack's broker is open to the LAN.
import os from 'node:os';

type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/** Bridges and links that only containers or VMs on this computer reach, never a board. */
const VIRTUAL = /^(docker\d*|br-[0-9a-f]+|veth|virbr|vnet|cni|flannel|podman|lxcbr|lxdbr|vmnet|vboxnet)/;
const PRIVATE = [/^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./];
const LINK_LOCAL = /^169\.254\./;

/** 0: private (RFC 1918), 1: any other address, 2: link-local (no DHCP answered). */
function rank(address: string): number {
  if (PRIVATE.some((range) => range.test(address))) return 0;
  return LINK_LOCAL.test(address) ? 2 : 1;
}

/**
 * This computer's non-internal IPv4 addresses, private ranges first, otherwise in interface order;
 * container and VM bridges (docker0, br-…, virbr…) are left out. The first is the one to suggest.
 */
export function lanAddresses(interfaces: Interfaces = os.networkInterfaces()): string[] {
  const found = Object.entries(interfaces)
    .filter(([name]) => !VIRTUAL.test(name))
    .flatMap(([, list]) => list ?? [])
    // Node 18.0–18.3 reported the family as a number.
    .filter((info) => (info.family === 'IPv4' || (info.family as unknown) === 4) && !info.internal)
    .map((info) => info.address);
  return [...new Set(found)].sort((a, b) => rank(a) - rank(b));
}
