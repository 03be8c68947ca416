/**
 * UDP endpoint addresses (`host:port`) and the mapping from a cluster's
 * addresses to the numeric {@link NodeId}s the sans-I/O protocol speaks.
 *
 * Every node of a cluster is started with its own address and its peers'
 * addresses. Node ids are the positions of the addresses in the sorted list
 * of all members (self plus peers), so nodes given the same member set agree
 * on every id without exchanging names.
 */
import { isIPv4 } from 'node:net';
import type { NodeId } from '../protocols/sans-io.js';

/** A UDP endpoint: an IPv4 literal and a port in [0, 65535] (0 = let the OS choose when binding). */
export interface UdpAddress {
  readonly host: string;
  readonly port: number;
}

/** A bad address or member list (a usage error: the CLI exits with code 2). */
export class AddressError extends Error {
  override readonly name = 'AddressError';
}

/** Parses `127.0.0.1:5001`. Throws {@link AddressError} with the offending text. */
export function parseAddress(text: string): UdpAddress {
  const t = text.trim();
  const i = t.lastIndexOf(':');
  if (i <= 0) throw new AddressError(`bad address "${text}": expected HOST:PORT, e.g. 127.0.0.1:5001`);
  const host = t.slice(0, i);
  const portText = t.slice(i + 1);
  if (!isIPv4(host)) throw new AddressError(`bad address "${text}": host must be an IPv4 literal such as 127.0.0.1`);
  if (!/^\d{1,5}$/.test(portText)) throw new AddressError(`bad address "${text}": port must be an integer in 0..65535`);
  const port = Number(portText);
  if (port > 65535) throw new AddressError(`bad address "${text}": port must be an integer in 0..65535`);
  return { host, port };
}

/** Parses a comma-separated list of addresses (empty string = no addresses). */
export function parseAddressList(text: string): UdpAddress[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(parseAddress);
}

/** `host:port`. */
export function formatAddress(a: UdpAddress): string {
  return `${a.host}:${a.port}`;
}

function compareAddresses(a: UdpAddress, b: UdpAddress): number {
  const pa = a.host.split('.').map(Number);
  const pb = b.host.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.port - b.port;
}

/** A cluster's members with their node ids, seen from one member. */
export interface Membership {
  /** Every member (self included), sorted; a member's index is its {@link NodeId}. */
  readonly members: readonly UdpAddress[];
  /** This node's id. */
  readonly self: NodeId;
  /** The peers' ids, in id order. */
  readonly peers: readonly NodeId[];
  /** The node id for a `host:port` key, or undefined for an address outside the cluster. */
  idOf(key: string): NodeId | undefined;
}

/**
 * Assigns node ids to self and peers (sorted by IPv4 address, then port).
 * Throws {@link AddressError} if self is among the peers, a peer repeats or self's port is 0.
 */
export function buildMembership(self: UdpAddress, peers: readonly UdpAddress[]): Membership {
  if (self.port === 0) throw new AddressError('the listen port must not be 0 in a cluster: peers need to know it');
  const seen = new Set<string>([formatAddress(self)]);
  for (const p of peers) {
    const k = formatAddress(p);
    if (p.port === 0) throw new AddressError(`peer ${k}: port must not be 0`);
    if (seen.has(k)) {
      throw new AddressError(k === formatAddress(self) ? `peer ${k} is this node's own address` : `peer ${k} is listed twice`);
    }
    seen.add(k);
  }
  const members = [self, ...peers].sort(compareAddresses);
  const ids = new Map<string, NodeId>();
  members.forEach((m, i) => ids.set(formatAddress(m), i));
  const selfId = ids.get(formatAddress(self)) as NodeId;
  return {
    members,
    self: selfId,
    peers: members.map((_, i) => i).filter((i) => i !== selfId),
    idOf: (key) => ids.get(key),
  };
}
