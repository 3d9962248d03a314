/**
 * Turns a client address into a rate limit key. IPv6 clients usually own a
 * whole /64 (and can pick any address in it), so by default all addresses of
 * a /64 share one key; IPv4-mapped IPv6 addresses count as IPv4.
 */
import { isIPv4, isIPv6 } from "node:net";

export const IPV6_PREFIX_BITS_DEFAULT = 64;
export const IPV4_PREFIX_BITS_DEFAULT = 32;

export interface IpGrouping {
  ipv4PrefixBits?: number;
  ipv6PrefixBits?: number;
}

/** "2001:db8::1" → the eight 16-bit groups, or undefined when not IPv6. */
export function expandIPv6(address: string): number[] | undefined {
  const zone = address.indexOf("%");
  const plain = zone >= 0 ? address.slice(0, zone) : address;
  if (!isIPv6(plain)) return undefined;
  let text = plain;
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  const dotted = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const octets = dotted[1]!.split(".").map(Number);
    const tail = `${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
    text = text.slice(0, -dotted[1]!.length) + tail;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const left = head === "" ? [] : head.split(":");
  const right = rest === undefined || rest === "" ? [] : rest.split(":");
  const fill = rest === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(fill).fill("0"), ...right].map((g) =>
    Number.parseInt(g, 16),
  );
  return groups.length === 8 ? groups : undefined;
}

function maskIPv4(address: string, bits: number): string {
  if (bits >= 32) return address;
  const value = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const masked = bits === 0 ? 0 : value - (value % 2 ** (32 - bits));
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(masked / 2 ** shift) % 256);
  return `${octets.join(".")}/${bits}`;
}

/** The key for a client address: IPv4 as is (or its prefix), IPv6 grouped by prefix. */
export function clientAddressKey(address: string, grouping: IpGrouping = {}): string {
  const v4Bits = grouping.ipv4PrefixBits ?? IPV4_PREFIX_BITS_DEFAULT;
  const v6Bits = grouping.ipv6PrefixBits ?? IPV6_PREFIX_BITS_DEFAULT;
  if (isIPv4(address)) return maskIPv4(address, v4Bits);
  const groups = expandIPv6(address);
  if (groups === undefined) return address;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const v4 = `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
    return maskIPv4(v4, v4Bits);
  }
  const kept = groups.map((group, i) => {
    const bitsLeft = v6Bits - i * 16;
    if (bitsLeft >= 16) return group;
    if (bitsLeft <= 0) return 0;
    return group & (0xffff << (16 - bitsLeft)) & 0xffff;
  });
  const text = kept.map((g) => g.toString(16)).join(":");
  return v6Bits >= 128 ? text : `${text}/${v6Bits}`;
}
