import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Remembers the answers of `fn` for the last few thousand inputs (cleared when full): a webhook's
 * callers are few, and parsing the same address for every request was a tenth of a rejection.
 */
function memo<T>(fn: (input: string) => T, size = 4096): (input: string) => T {
  const known = new Map<string, T>();
  return (input) => {
    let value = known.get(input);
    if (value === undefined && !known.has(input)) {
      if (known.size >= size) known.clear();
      value = fn(input);
      known.set(input, value);
    }
    return value as T;
  };
}

/** Parses one address, unwrapping IPv4-mapped IPv6 (`::ffff:1.2.3.4`) to IPv4. */
export function parseAddress(input: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const trimmed = input.trim().replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(trimmed)) return null;
  const addr = ipaddr.parse(trimmed);
  return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()
    ? (addr as ipaddr.IPv6).toIPv4Address()
    : addr;
}

function parseRange(entry: string): Range | null {
  const text = entry.trim();
  try {
    if (text.includes('/')) {
      const [addr, bits] = ipaddr.parseCIDR(text);
      if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
      }
      return [addr, bits];
    }
  } catch {
    return null;
  }
  const addr = parseAddress(text);
  return addr ? [addr, addr.kind() === 'ipv4' ? 32 : 128] : null;
}

/** The entries of an IP/CIDR list that cannot be parsed: the check the admin form runs too. */
export { invalidIpEntries } from '../../common/checks';

export type IpMatcher = (ip: string) => boolean;

/** Compiles an IP/CIDR list (IPv4, IPv6, IPv4-mapped IPv6) into a membership test. */
export function compileIpList(list: string[]): IpMatcher {
  const ranges = list.map(parseRange).filter((r): r is Range => r !== null);
  return memo((ip) => {
    const addr = parseAddress(ip);
    if (!addr) return false;
    return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
  });
}

/**
 * The client's address: the socket peer, unless that peer is a trusted proxy; then the
 * `X-Forwarded-For` chain is walked from the right while its hops are trusted, and the first
 * untrusted hop is the client. A header from an untrusted peer changes nothing.
 */
export function resolveClientIp(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  isTrusted: IpMatcher | null,
): string {
  const peer = normalize(socketAddress ?? '');
  if (!isTrusted || !forwardedFor || !isTrusted(peer)) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseAddress(hops[i]);
    if (!hop) break;
    client = hop.toString();
    if (!isTrusted(client)) break;
  }
  return client;
}

const normalize = memo((ip: string): string => {
  const addr = parseAddress(ip);
  return addr ? addr.toString() : ip;
});
