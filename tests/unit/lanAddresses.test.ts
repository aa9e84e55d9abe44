import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { lanAddresses } from '../../electron/core/stack/lanAddresses';

type Info = os.NetworkInterfaceInfo;
const v4 = (address: string, internal = false): Info =>
  ({ address, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null }) as Info;
const v6 = (address: string): Info =>
  ({
    address,
    family: 'IPv6',
    internal: false,
    netmask: 'ffff::',
    mac: '00:00:00:00:00:00',
    scopeid: 0,
    cidr: null,
  }) as Info;

describe('lanAddresses', () => {
  it('picks the non-internal IPv4 addresses, private ranges first, leaving out container and VM bridges', () => {
    const found = lanAddresses({
      lo: [v4('127.0.0.1', true), { ...v6('::1'), internal: true }],
      docker0: [v4('172.17.0.1')],
      'br-0123456789ab': [v4('172.18.0.1')],
      virbr0: [v4('192.168.122.1')],
      tailscale0: [v4('100.101.102.103')],
      eth0: [v4('169.254.10.20'), v6('fe80::1')],
      wlan0: [v4('192.168.1.20'), v6('2001:db8::20')],
      enp3s0: [v4('10.0.0.7')],
    });
    expect(found).toEqual(['192.168.1.20', '10.0.0.7', '100.101.102.103', '169.254.10.20']);
  });

  it('counts 172.16.0.0/12 as private, and not its neighbours', () => {
    expect(
      lanAddresses({ a: [v4('172.32.0.1')], b: [v4('172.31.9.9')], c: [v4('172.15.0.1')], d: [v4('172.16.0.1')] }),
    ).toEqual(['172.31.9.9', '172.16.0.1', '172.32.0.1', '172.15.0.1']);
  });

  it('is empty on a computer with loopback only, and lists an address once', () => {
    expect(lanAddresses({ lo: [v4('127.0.0.1', true)] })).toEqual([]);
    expect(lanAddresses({ a: [v4('10.0.0.2')], b: [v4('10.0.0.2')] })).toEqual(['10.0.0.2']);
  });
});
