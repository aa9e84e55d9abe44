// Where `makerdeck serve` listens and under which name, decided (and refused, in one line) before
// anything starts: loopback over plain HTTP, or with --allow-remote HTTPS under a public name.
import { isIP } from 'node:net';
import os from 'node:os';
import { MakerdeckError } from '../contract';
import { quote } from './rateLimitedLog';
import { isLoopbackHost, isWildcardHost } from './security';
import { selfSignedCertificate, type TlsIdentity } from './selfSignedCertificate';

export interface SiteOptions {
  /** The address to listen on (default 127.0.0.1, with allowRemote 0.0.0.0); IPv6 with or without brackets. */
  bind?: string;
  allowRemote?: boolean;
  /** The name or address other machines type (required for a wildcard bind). */
  publicHost?: string;
}

export interface Site {
  bind: string;
  publicHost?: string;
  /** Set for remote mode: a key and certificate made for this run. */
  tls?: TlsIdentity;
}

/** Checks the options and returns where to listen; remote mode gets a fresh certificate. */
export function planSite(options: SiteOptions): Site {
  const bind = unbracket(options.bind ?? (options.allowRemote ? '0.0.0.0' : '127.0.0.1'));
  if (bind !== 'localhost' && isIP(bind) === 0) {
    const choices = `${machineAddresses()}, 127.0.0.1 or ::1`;
    throw refusal(`--host ${quote(bind)} is not an IP address: give one of this machine's addresses (${choices})`);
  }
  if (isLoopbackHost(bind) && !options.allowRemote) {
    if (options.publicHost) {
      throw refusal('--public-host is for --allow-remote: without it Makerdeck answers on this machine only');
    }
    return { bind };
  }
  if (!options.allowRemote) {
    throw refusal(
      `Refusing to listen on ${bind}, which is not a loopback address: ` +
        'add --allow-remote (HTTPS, for other machines), or reach it over SSH: ssh -L PORT:127.0.0.1:PORT this-machine',
    );
  }
  const publicHost = options.publicHost === undefined ? impliedPublicHost(bind) : unbracket(options.publicHost);
  if (!publicHost) {
    const hint = `--public-host NAME (this machine's addresses: ${machineAddresses()})`;
    throw refusal(`Name the address other machines use to reach this one: ${hint}`);
  }
  if (isWildcardHost(publicHost) || !/^[A-Za-z0-9.:-]{1,253}$/.test(publicHost)) {
    const hint = `use e.g. labbox.local or ${machineAddresses().split(', ')[0]}`;
    throw refusal(`--public-host ${quote(publicHost)} is not a name or address a browser can open: ${hint}`);
  }
  const names = [...new Set([publicHost, 'localhost', '127.0.0.1', '::1'])];
  return { bind, publicHost, tls: selfSignedCertificate(names) };
}

/** A bind to one of this machine's addresses names itself; a wildcard or loopback names nothing. */
function impliedPublicHost(bind: string): string | undefined {
  return isWildcardHost(bind) || isLoopbackHost(bind) ? undefined : bind;
}

function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

function refusal(message: string): MakerdeckError {
  return new MakerdeckError('BAD_INPUT', message);
}

/** This machine's non-loopback addresses, for messages that ask the user to pick one. */
function machineAddresses(): string {
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && !a.address.startsWith('fe80:'))
    .map((a) => a!.address);
  return addresses.length ? addresses.join(', ') : 'none besides loopback';
}
